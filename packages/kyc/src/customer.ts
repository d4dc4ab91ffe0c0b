import { canonicalEmail } from '@idgate/core/adapter';
import { KycError } from './errors.js';

/** An individual's details (GetSessionId's `individual`). */
export interface KycIndividual {
  firstName: string;
  lastName: string;
}

/** A legal entity's details (GetSessionId's `company`). */
export interface KycCompany {
  fullName: string;
  registrationNumber: string;
  tradingName: string;
}

interface KycCustomerCommon {
  /** The customer's unique key upstream; trimmed and lowercased before it is sent or cached. */
  customerEmail: string;
  customerMobileNumber?: string | null | undefined;
  /** The employee assigned to the customer. */
  employeeId?: string | null | undefined;
  /** The client of your tenant the new profile is assigned to; the tenant's default when omitted. */
  clientId?: string | null | undefined;
  /** Send new customers a welcome e-mail. */
  sendEmail?: boolean | null | undefined;
}

/**
 * Who a KYC session is for, with GetSessionId's field names: an `Individual` with
 * `individual`, or a `LegalEntity` with `company`, never both.
 * @example { customerType: 'Individual', customerEmail: 'ada@example.com', individual: { firstName: 'Ada', lastName: 'Lovelace' } }
 */
export type KycCustomerInput =
  | (KycCustomerCommon & { customerType: 'Individual'; individual: KycIndividual; company?: null | undefined })
  | (KycCustomerCommon & { customerType: 'LegalEntity'; company: KycCompany; individual?: null | undefined });

/** The customer part of a GetSessionId body, checked and ready to send. */
export type KycCustomerFields = Record<string, unknown> & { customerEmail: string };

const TYPES = new Set(['Individual', 'LegalEntity']);
const OPTIONAL_STRINGS = ['customerMobileNumber', 'employeeId', 'clientId'] as const;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const filled = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

/**
 * Check a customer exactly as GetSessionId does, in the same order and with
 * the same messages, so a bad input fails here before any call:
 * not an object → "Invalid Request"; then the GetSessionId documentation's rules as numbered: 1 not
 * exactly one of `individual` / `company` → "Invalid Customer Details"; 2 the
 * object not matching the type → "Invalid Customer Type"; 3 `customerType` not
 * `Individual` / `LegalEntity` → "Invalid customer type."; then a missing or
 * mistyped field → "Invalid request parameters".
 * Returns the fields to send: the e-mail canonical (`canonicalEmail` of `@idgate/core`), null/undefined optionals dropped.
 * @example checkCustomer({ customerType: 'Individual', customerEmail: 'A@x.io', individual: { firstName: 'A', lastName: 'B' } }).customerEmail // 'a@x.io'
 */
export function checkCustomer(input: unknown): KycCustomerFields {
  if (!isObject(input)) throw new KycError('KYC_INVALID_REQUEST');
  const { customerType, individual, company } = input;
  // The GetSessionId documentation's validation rules in its order: 1 one object, 2 the type matches it, 3 a valid type.
  const hasIndividual = individual !== undefined && individual !== null;
  const hasCompany = company !== undefined && company !== null;
  if (hasIndividual === hasCompany) throw new KycError('KYC_INVALID_CUSTOMER_DETAILS');
  if ((customerType === 'Individual' && !hasIndividual) || (customerType === 'LegalEntity' && !hasCompany)) throw new KycError('KYC_CUSTOMER_TYPE_MISMATCH');
  if (typeof customerType !== 'string' || !TYPES.has(customerType)) throw new KycError('KYC_INVALID_CUSTOMER_TYPE');

  const invalid = () => new KycError('KYC_INVALID_PARAMETERS');
  // idgate's one e-mail rule, shared with login (and applied by the mock upstream):
  // the client refuses exactly what the upstream refuses, no more.
  const customerEmail = canonicalEmail(input.customerEmail);
  if (customerEmail === null) throw invalid();
  const out: KycCustomerFields = { customerType, customerEmail };
  for (const key of OPTIONAL_STRINGS) {
    const v = input[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') throw invalid();
    out[key] = v;
  }
  if (input.sendEmail !== undefined && input.sendEmail !== null) {
    if (typeof input.sendEmail !== 'boolean') throw invalid();
    out.sendEmail = input.sendEmail;
  }
  if (hasIndividual) {
    if (!isObject(individual) || !filled(individual.firstName) || !filled(individual.lastName)) throw invalid();
    out.individual = { firstName: individual.firstName, lastName: individual.lastName };
  } else {
    if (!isObject(company) || !filled(company.fullName) || !filled(company.registrationNumber) || !filled(company.tradingName)) throw invalid();
    out.company = { fullName: company.fullName, registrationNumber: company.registrationNumber, tradingName: company.tradingName };
  }
  return out;
}
