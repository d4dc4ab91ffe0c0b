import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  KYC_MESSAGES,
  MOCK_KYC_APP_ID,
  MOCK_KYC_APP_SECRET,
  MOCK_KYC_CLIENT_ID,
  MOCK_KYC_FORM_ID,
  MOCK_KYC_RESTRICTED_CLIENT_ID,
  MOCK_KYC_TENANT_ID,
  startMockUpstream,
} from './index.js';
import type { MockUpstream } from './index.js';

const PATH = '/api/AppSessionManager/GetSessionId';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const T0 = Date.parse('2026-01-01T00:00:00Z');

const CREDENTIALS = { appId: MOCK_KYC_APP_ID, appSecret: MOCK_KYC_APP_SECRET, tenantId: MOCK_KYC_TENANT_ID, formId: MOCK_KYC_FORM_ID };
const INDIVIDUAL = { ...CREDENTIALS, customerType: 'Individual', customerEmail: 'ada@example.com', individual: { firstName: 'Ada', lastName: 'Lovelace' } };
const COMPANY = {
  ...CREDENTIALS,
  customerType: 'LegalEntity',
  customerEmail: 'office@acme.example',
  company: { fullName: 'Acme Ltd', registrationNumber: '12345', tradingName: 'Acme' },
};

let mock: MockUpstream;
beforeEach(async () => {
  mock ??= await startMockUpstream({ port: 0, now: () => T0, kyc: { sessionLifetimeMs: 600_000, rateLimit: 5, rateLimitWindowMs: 10_000 } });
  mock.reset();
});
afterAll(() => mock.close());

async function post(body: unknown): Promise<{ status: number; headers: Headers; json: any }> {
  const res = await fetch(mock.url + PATH, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, json: await res.json() };
}

const failure = (statusCode: number, message: string) => ({ version: null, statusCode, messages: [message], result: null });

describe('GetSessionId success', () => {
  it('answers the GetSessionId documentation\'s envelope for an Individual, with a .NET-style UTC expiry on the mock clock', async () => {
    const { status, json } = await post(INDIVIDUAL);
    expect(status).toBe(200);
    expect(json).toEqual({
      version: null,
      statusCode: 200,
      messages: ['Processed successfully'],
      result: {
        sessionId: expect.stringMatching(UUID),
        expiryDate: '2026-01-01T00:10:00.0000000Z',
        submissionId: expect.stringMatching(UUID),
        customerId: expect.stringMatching(UUID),
        clientId: MOCK_KYC_CLIENT_ID,
        isNewCustomer: true,
      },
    });
    mock.advanceClock(60_000);
    expect((await post(INDIVIDUAL)).json.result.expiryDate).toBe('2026-01-01T00:11:00.0000000Z');
  });

  it('keeps customers unique by normalized e-mail: isNewCustomer once, then the same customer and submission, a new session', async () => {
    const first = (await post(INDIVIDUAL)).json.result;
    const again = (await post({ ...INDIVIDUAL, customerEmail: '  ADA@Example.com ' })).json.result;
    expect(again).toMatchObject({ isNewCustomer: false, customerId: first.customerId, submissionId: first.submissionId });
    expect(again.sessionId).not.toBe(first.sessionId);
    const otherForm = await startMockUpstream({ port: 0, kyc: { formIds: [MOCK_KYC_FORM_ID, 'form-2'] } });
    try {
      const a = await fetch(otherForm.url + PATH, { method: 'POST', body: JSON.stringify(INDIVIDUAL) }).then((r) => r.json() as Promise<any>);
      const b = await fetch(otherForm.url + PATH, { method: 'POST', body: JSON.stringify({ ...INDIVIDUAL, formId: 'form-2' }) }).then((r) => r.json() as Promise<any>);
      expect(b.result.customerId).toBe(a.result.customerId);
      expect(b.result.submissionId).not.toBe(a.result.submissionId);
    } finally {
      await otherForm.close();
    }
  });

  it('accepts a LegalEntity and the optional fields; echoes a permitted clientId; reset() forgets customers', async () => {
    const { status, json } = await post({ ...COMPANY, customerMobileNumber: '+971500000000', employeeId: 'emp-1', sendEmail: true, clientId: MOCK_KYC_CLIENT_ID, individual: null });
    expect(status).toBe(200);
    expect(json.result).toMatchObject({ clientId: MOCK_KYC_CLIENT_ID, isNewCustomer: true });
    mock.reset();
    expect((await post(COMPANY)).json.result.isNewCustomer).toBe(true);
  });
});

describe('GetSessionId validation, in order, with the GetSessionId documentation\'s messages', () => {
  const { individual: _i, ...noDetails } = INDIVIDUAL;
  const cases: [string, unknown, number, string][] = [
    ['malformed JSON', '{nope', 400, KYC_MESSAGES.invalidRequest],
    ['a null body', 'null', 400, KYC_MESSAGES.invalidRequest],
    ['an array body', [INDIVIDUAL], 400, KYC_MESSAGES.invalidRequest],
    // Rule 1: exactly one of individual / company, whatever customerType says.
    ['neither individual nor company', noDetails, 400, 'Invalid Customer Details'],
    ['both individual and company', { ...INDIVIDUAL, company: COMPANY.company }, 400, 'Invalid Customer Details'],
    ['neither object and an invalid customerType', { ...noDetails, customerType: 'Business' }, 400, 'Invalid Customer Details'],
    ['both objects and no customerType', { ...INDIVIDUAL, customerType: undefined, company: COMPANY.company }, 400, 'Invalid Customer Details'],
    // Rule 2: the type names the other object.
    ['Individual with company', { ...COMPANY, customerType: 'Individual' }, 400, 'Invalid Customer Type'],
    ['LegalEntity with individual', { ...INDIVIDUAL, customerType: 'LegalEntity' }, 400, 'Invalid Customer Type'],
    // Rule 3: the value itself.
    ['customerType missing', { ...INDIVIDUAL, customerType: undefined }, 400, 'Invalid customer type.'],
    ['customerType not in the enum', { ...INDIVIDUAL, customerType: 'individual' }, 400, 'Invalid customer type.'],
    ['no customerEmail', { ...INDIVIDUAL, customerEmail: undefined }, 400, 'Invalid request parameters'],
    ['a customerEmail that is not one', { ...INDIVIDUAL, customerEmail: 'ada at example' }, 400, 'Invalid request parameters'],
    ['an empty lastName', { ...INDIVIDUAL, individual: { firstName: 'Ada', lastName: ' ' } }, 400, 'Invalid request parameters'],
    ['an individual that is not an object', { ...INDIVIDUAL, individual: 'Ada Lovelace' }, 400, 'Invalid request parameters'],
    ['no tradingName', { ...COMPANY, company: { fullName: 'Acme Ltd', registrationNumber: '1' } }, 400, 'Invalid request parameters'],
    ['sendEmail not a boolean', { ...INDIVIDUAL, sendEmail: 'yes' }, 400, 'Invalid request parameters'],
    ['employeeId not a string', { ...INDIVIDUAL, employeeId: 7 }, 400, 'Invalid request parameters'],
    ['no formId', { ...INDIVIDUAL, formId: undefined }, 400, 'Invalid request parameters'],
    ['an empty appSecret', { ...INDIVIDUAL, appSecret: '' }, 400, 'Invalid AppId or AppSecret'],
    ['an unknown appId', { ...INDIVIDUAL, appId: 'someone-else' }, 400, 'Invalid AppId or AppSecret'],
    // Rule 4 and the error table: a wrong secret is the same 400 as a blank or unknown pair.
    ['a wrong appSecret', { ...INDIVIDUAL, appSecret: 'wrong' }, 400, 'Invalid AppId or AppSecret'],
    ['no appId', { ...INDIVIDUAL, appId: undefined }, 400, 'Invalid AppId or AppSecret'],
    ['another tenant', { ...INDIVIDUAL, tenantId: 'other-tenant' }, 403, 'Unauthorized tenant'],
    ['an unknown form', { ...INDIVIDUAL, formId: 'other-form' }, 400, 'Invalid request parameters'],
    ['a client of no tenant of ours', { ...INDIVIDUAL, clientId: '11111111-2222-4333-8444-555555555555' }, 400, 'Invalid Client Id'],
    ['a client the key may not use', { ...INDIVIDUAL, clientId: MOCK_KYC_RESTRICTED_CLIENT_ID }, 400, 'Client Id is not permitted for this API key'],
    // Rules 1-3 come before rule 4, so a client can validate the customer locally first.
    ['bad details and a wrong secret', { ...noDetails, appSecret: 'wrong' }, 400, 'Invalid Customer Details'],
    ['a type mismatch and a wrong secret', { ...INDIVIDUAL, customerType: 'LegalEntity', appSecret: 'wrong' }, 400, 'Invalid Customer Type'],
    ['an invalid type and a wrong secret', { ...INDIVIDUAL, customerType: 'Person', appSecret: 'wrong' }, 400, 'Invalid customer type.'],
  ];
  it.each(cases)('%s', async (_name, body, status, message) => {
    const res = await post(body);
    expect(res.status).toBe(status);
    expect(res.json).toEqual(failure(status, message));
  });

  it('treats an empty clientId as omitted', async () => {
    expect((await post({ ...INDIVIDUAL, clientId: '' })).json.result.clientId).toBe(MOCK_KYC_CLIENT_ID);
  });
});

describe('rate limit, counters, faults', () => {
  it('answers 429 with Retry-After past the limit per app id, on the mock clock', async () => {
    for (let i = 0; i < 5; i++) expect((await post(INDIVIDUAL)).status).toBe(200);
    const limited = await post(INDIVIDUAL);
    expect(limited.status).toBe(429);
    expect(limited.json).toEqual(failure(429, 'Too many requests'));
    expect(limited.headers.get('retry-after')).toBe('10');
    expect((await post({ ...INDIVIDUAL, appId: 'another-app' })).status).toBe(400); // its own budget
    mock.advanceClock(10_000);
    expect((await post(INDIVIDUAL)).status).toBe(200);
  });

  it('counts calls as `kyc`, records them, and takes faults by route name', async () => {
    mock.fault({ route: 'kyc', status: 500, body: { statusCode: 500, messages: ['Server error'] }, times: 1 });
    expect((await post(INDIVIDUAL)).status).toBe(500);
    expect((await post(INDIVIDUAL)).status).toBe(200);
    expect(mock.calls()).toMatchObject({ kyc: 2, total: 2 });
    expect(mock.requests('kyc').map((r) => (r.body as { customerEmail: string }).customerEmail)).toEqual(['ada@example.com', 'ada@example.com']);
  });

  it('refuses bad options with a TypeError naming them', async () => {
    await expect(startMockUpstream({ kyc: { sessionLifetimeMs: 0 } })).rejects.toThrow('kyc.sessionLifetimeMs');
    await expect(startMockUpstream({ kyc: { appSecret: '' } })).rejects.toThrow('kyc.appSecret');
    await expect(startMockUpstream({ kyc: { formIds: [''] } })).rejects.toThrow('kyc.formIds');
  });
});
