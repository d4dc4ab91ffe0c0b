import { describe, expect, it } from 'vitest';
import { checkCustomer } from './customer.js';
import { KycError } from './errors.js';
import { defaultCustomer } from './endpoint.js';
import type { Identity } from '@idgate/core';

const individual = { customerType: 'Individual', customerEmail: 'ada@example.com', individual: { firstName: 'Ada', lastName: 'Lovelace' } };
const company = { customerType: 'LegalEntity', customerEmail: 'office@acme.example', company: { fullName: 'Acme Ltd', registrationNumber: '1', tradingName: 'Acme' } };

function codeOf(input: unknown): [string, string] | 'ok' {
  try {
    checkCustomer(input);
    return 'ok';
  } catch (err) {
    if (!(err instanceof KycError)) throw err;
    return [err.code, err.message];
  }
}

describe('checkCustomer', () => {
  it.each<[string, unknown, [string, string] | 'ok']>([
    ['an Individual', individual, 'ok'],
    ['a LegalEntity with a null individual', { ...company, individual: null }, 'ok'],
    ['null', null, ['KYC_INVALID_REQUEST', 'Invalid Request']],
    ['a string', 'ada@example.com', ['KYC_INVALID_REQUEST', 'Invalid Request']],
    ['no customerType', { ...individual, customerType: undefined }, ['KYC_INVALID_CUSTOMER_TYPE', 'Invalid customer type.']],
    ['a lowercase customerType', { ...individual, customerType: 'legalentity' }, ['KYC_INVALID_CUSTOMER_TYPE', 'Invalid customer type.']],
    ['neither object', { customerType: 'Individual', customerEmail: 'a@b.c' }, ['KYC_INVALID_CUSTOMER_DETAILS', 'Invalid Customer Details']],
    ['both objects', { ...individual, company: company.company }, ['KYC_INVALID_CUSTOMER_DETAILS', 'Invalid Customer Details']],
    ['LegalEntity with individual', { ...individual, customerType: 'LegalEntity' }, ['KYC_CUSTOMER_TYPE_MISMATCH', 'Invalid Customer Type']],
    ['Individual with company', { ...company, customerType: 'Individual' }, ['KYC_CUSTOMER_TYPE_MISMATCH', 'Invalid Customer Type']],
    // The GetSessionId documentation's rule order: 1 one object, 2 type matches it, 3 a valid type.
    ['an invalid type and neither object (rule 1 first)', { customerType: 'Business', customerEmail: 'a@b.c' }, ['KYC_INVALID_CUSTOMER_DETAILS', 'Invalid Customer Details']],
    ['no type and both objects (rule 1 first)', { ...individual, customerType: undefined, company: company.company }, ['KYC_INVALID_CUSTOMER_DETAILS', 'Invalid Customer Details']],
    ['no e-mail', { ...individual, customerEmail: undefined }, ['KYC_INVALID_PARAMETERS', 'Invalid request parameters']],
    ['a bad e-mail', { ...individual, customerEmail: 'a@@b' }, ['KYC_INVALID_PARAMETERS', 'Invalid request parameters']],
    ['no firstName', { ...individual, individual: { lastName: 'L' } }, ['KYC_INVALID_PARAMETERS', 'Invalid request parameters']],
    ['a blank registrationNumber', { ...company, company: { ...company.company, registrationNumber: '  ' } }, ['KYC_INVALID_PARAMETERS', 'Invalid request parameters']],
    ['a numeric clientId', { ...individual, clientId: 5 }, ['KYC_INVALID_PARAMETERS', 'Invalid request parameters']],
    ['a string sendEmail', { ...individual, sendEmail: 'true' }, ['KYC_INVALID_PARAMETERS', 'Invalid request parameters']],
  ])('%s', (_name, input, expected) => {
    expect(codeOf(input)).toEqual(expected);
  });

  it('normalizes the e-mail, drops null optionals and copies only known fields', () => {
    const out = checkCustomer({ ...individual, customerEmail: ' Ada@Example.COM ', employeeId: null, sendEmail: false, extra: 'x', individual: { firstName: 'Ada', lastName: 'L', x: 1 } });
    expect(out).toEqual({ customerType: 'Individual', customerEmail: 'ada@example.com', sendEmail: false, individual: { firstName: 'Ada', lastName: 'L' } });
  });

  it('validation errors answer 400', () => {
    const err = (() => {
      try {
        checkCustomer({});
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(KycError);
    expect((err as KycError).status).toBe(400);
  });
});

describe('defaultCustomer', () => {
  const identity = (name: string | undefined, attributes: Record<string, unknown> = {}): Identity => ({ id: 'c1', email: 'a@b.co', name, attributes, verifiedAt: new Date() }) as Identity;
  it('prefers name attributes, then splits the name at its first space', () => {
    expect(defaultCustomer(identity('Demo Customer'))).toEqual({ customerType: 'Individual', individual: { firstName: 'Demo', lastName: 'Customer' } });
    expect(defaultCustomer(identity('Jean  Claude Van Damme')).individual).toEqual({ firstName: 'Jean', lastName: 'Claude Van Damme' });
    expect(defaultCustomer(identity('X Y', { first_name: 'Ada', last_name: 'Lovelace' })).individual).toEqual({ firstName: 'Ada', lastName: 'Lovelace' });
  });
  it('leaves a missing last name empty, for validation to refuse', () => {
    expect(defaultCustomer(identity('Cher')).individual).toEqual({ firstName: 'Cher', lastName: '' });
    expect(() => checkCustomer({ ...defaultCustomer(identity(undefined)), customerEmail: 'a@b.co' })).toThrow('Invalid request parameters');
  });
});
