import { randomUUID } from 'node:crypto';
import { normalizeEmail } from './bizkithub.js';
import type { MockModule, MockReply, MockRequest } from './server.js';

/** The mock's KYC app id (the default of `kyc.appId`). */
export const MOCK_KYC_APP_ID = 'idgate-mock-kyc-app';
/** The mock's KYC app secret (the default of `kyc.appSecret`); a test value, not a secret. */
export const MOCK_KYC_APP_SECRET = 'idgate-mock-kyc-secret-0123456789';
/** The mock app's tenant (the default of `kyc.tenantId`). */
export const MOCK_KYC_TENANT_ID = 'idgate-mock-tenant';
/** The mock tenant's KYC form (the default of `kyc.formIds`). */
export const MOCK_KYC_FORM_ID = 'idgate-mock-form';
/** The tenant's default client: echoed when a call names none; permitted for the mock key. */
export const MOCK_KYC_CLIENT_ID = '5b2a1c84-9d77-4e1a-a8b3-2f9a45d6c901';
/** A client of the tenant that the mock key may not assign profiles to. */
export const MOCK_KYC_RESTRICTED_CLIENT_ID = '0e7c3f52-1b4d-4c8a-9f26-7d3e8a1b5c40';

/** GetSessionId's documented messages, keyed as the mock uses them. */
export const KYC_MESSAGES = {
  ok: 'Processed successfully',
  invalidParameters: 'Invalid request parameters',
  invalidRequest: 'Invalid Request',
  invalidCredentials: 'Invalid AppId or AppSecret',
  invalidCustomerDetails: 'Invalid Customer Details',
  customerTypeMismatch: 'Invalid Customer Type',
  invalidCustomerType: 'Invalid customer type.',
  invalidClientId: 'Invalid Client Id',
  clientNotPermitted: 'Client Id is not permitted for this API key',
  /** The table's 401 row; the documentation never says when it is sent, so only a fault sends it. */
  unauthorized: 'Invalid credentials',
  forbidden: 'Unauthorized tenant',
  rateLimited: 'Too many requests',
} as const;

/**
 * Options of the KYC (Azakaw GetSessionId) emulation: one app of one tenant.
 * @example await startMockUpstream({ kyc: { sessionLifetimeMs: 60_000, rateLimit: 5 } })
 */
export interface KycMockOptions {
  /** @default MOCK_KYC_APP_ID */
  appId?: string;
  /** @default MOCK_KYC_APP_SECRET */
  appSecret?: string;
  /** The app's tenant; any other answers 403. @default MOCK_KYC_TENANT_ID */
  tenantId?: string;
  /** The tenant's forms; any other answers 400 "Invalid request parameters". @default [MOCK_KYC_FORM_ID] */
  formIds?: string[];
  /** Echoed when a call names no client. @default MOCK_KYC_CLIENT_ID */
  defaultClientId?: string;
  /** Clients the key may assign profiles to (the default client is always one). @default [MOCK_KYC_CLIENT_ID] */
  permittedClientIds?: string[];
  /** Clients of the tenant the key may not use. @default [MOCK_KYC_RESTRICTED_CLIENT_ID] */
  restrictedClientIds?: string[];
  /** `expiryDate` is this long after the call, on the mock's clock. @default 3_600_000 (1 h) */
  sessionLifetimeMs?: number;
  /** Calls per app id within `rateLimitWindowMs` before 429. @default 60 */
  rateLimit?: number;
  /** @default 60_000 */
  rateLimitWindowMs?: number;
}

interface Customer {
  customerId: string;
  /** One submission per form: a later session continues it. */
  submissions: Map<string, string>;
}

const OPTIONAL_STRINGS = ['customerMobileNumber', 'employeeId', 'clientId'] as const;

/**
 * Creates the KYC emulation: route `kyc`, `POST /api/AppSessionManager/GetSessionId`.
 * Checks in this order: rate limit (429), body (Invalid Request), then seed
 * 004's rules as numbered: 1 exactly one of individual/company (Invalid
 * Customer Details), 2 type matches object (Invalid Customer Type), 3 a valid
 * customerType (Invalid customer type.); then fields (Invalid request
 * parameters), 4 appId/appSecret (400 Invalid AppId or AppSecret when blank,
 * unknown or wrong), tenant (403), form (400 Invalid request parameters),
 * clientId (Invalid Client Id / not permitted).
 * @example const kyc = createKyc({ sessionLifetimeMs: 60_000 }, Date.now);
 */
export function createKyc(options: KycMockOptions, now: () => number): MockModule {
  const appId = text(options.appId, MOCK_KYC_APP_ID, 'kyc.appId');
  const appSecret = text(options.appSecret, MOCK_KYC_APP_SECRET, 'kyc.appSecret');
  const tenantId = text(options.tenantId, MOCK_KYC_TENANT_ID, 'kyc.tenantId');
  const defaultClientId = text(options.defaultClientId, MOCK_KYC_CLIENT_ID, 'kyc.defaultClientId');
  const formIds = new Set(list(options.formIds, [MOCK_KYC_FORM_ID], 'kyc.formIds'));
  const permitted = new Set([defaultClientId, ...list(options.permittedClientIds, [MOCK_KYC_CLIENT_ID], 'kyc.permittedClientIds')]);
  const restricted = new Set(list(options.restrictedClientIds, [MOCK_KYC_RESTRICTED_CLIENT_ID], 'kyc.restrictedClientIds'));
  const lifetimeMs = positive(options.sessionLifetimeMs, 60 * 60_000, 'kyc.sessionLifetimeMs');
  const limit = positive(options.rateLimit, 60, 'kyc.rateLimit');
  const windowMs = positive(options.rateLimitWindowMs, 60_000, 'kyc.rateLimitWindowMs');

  // Unique by normalized e-mail within a tenant.
  const customers = new Map<string, Customer>();
  // Call times per app id (as sent), for the rate limit.
  const calls = new Map<string, number[]>();

  function rateLimited(req: MockRequest): MockReply | null {
    const key = isRecord(req.body) && typeof req.body.appId === 'string' ? req.body.appId : '';
    const t = now();
    const recent = (calls.get(key) ?? []).filter((at) => t - at < windowMs);
    if (recent.length >= limit) {
      const freeAt = recent[recent.length - limit]! + windowMs;
      calls.set(key, recent);
      return reply(429, KYC_MESSAGES.rateLimited, { 'retry-after': String(Math.max(1, Math.ceil((freeAt - t) / 1000))) });
    }
    recent.push(t);
    calls.set(key, recent);
    return null;
  }

  function getSessionId(req: MockRequest): MockReply {
    const limited = rateLimited(req);
    if (limited) return limited;
    if (req.malformed || !isRecord(req.body)) return reply(400, KYC_MESSAGES.invalidRequest);
    const b = req.body;
    // The GetSessionId documentation's validation rules, in the order it numbers them.
    const hasIndividual = b.individual !== undefined && b.individual !== null;
    const hasCompany = b.company !== undefined && b.company !== null;
    // 1. Either individual or company (not both, not neither).
    if (hasIndividual === hasCompany) return reply(400, KYC_MESSAGES.invalidCustomerDetails);
    // 2. "Individual" needs individual, "LegalEntity" needs company; another value is rule 3's.
    if ((b.customerType === 'Individual' && !hasIndividual) || (b.customerType === 'LegalEntity' && !hasCompany)) {
      return reply(400, KYC_MESSAGES.customerTypeMismatch);
    }
    // 3. A valid enum value (case-sensitive).
    if (b.customerType !== 'Individual' && b.customerType !== 'LegalEntity') return reply(400, KYC_MESSAGES.invalidCustomerType);

    const email = typeof b.customerEmail === 'string' ? normalizeEmail(b.customerEmail) : null;
    const details = hasIndividual ? fieldsFilled(b.individual, ['firstName', 'lastName']) : fieldsFilled(b.company, ['fullName', 'registrationNumber', 'tradingName']);
    const optionalsOk =
      OPTIONAL_STRINGS.every((k) => b[k] === undefined || b[k] === null || typeof b[k] === 'string') &&
      (b.sendEmail === undefined || b.sendEmail === null || typeof b.sendEmail === 'boolean');
    const ids = [b.tenantId, b.formId].every((v) => typeof v === 'string' && v.trim() !== '');
    if (email === null || !details || !optionalsOk || !ids) return reply(400, KYC_MESSAGES.invalidParameters);

    // 4. AppId and AppSecret valid and non-empty: one answer for a blank, unknown or wrong pair (the error table's 400 row).
    if (!filled(b.appId) || !filled(b.appSecret) || b.appId !== appId || b.appSecret !== appSecret) return reply(400, KYC_MESSAGES.invalidCredentials);
    if (b.tenantId !== tenantId) return reply(403, KYC_MESSAGES.forbidden);
    if (!formIds.has(b.formId as string)) return reply(400, KYC_MESSAGES.invalidParameters);
    // An empty clientId counts as omitted, as `string.IsNullOrEmpty` would have it.
    const asked = typeof b.clientId === 'string' && b.clientId !== '' ? b.clientId : undefined;
    if (asked !== undefined && !permitted.has(asked)) {
      return reply(400, restricted.has(asked) ? KYC_MESSAGES.clientNotPermitted : KYC_MESSAGES.invalidClientId);
    }

    const key = `${tenantId}\n${email}`;
    let customer = customers.get(key);
    const isNewCustomer = customer === undefined;
    if (!customer) {
      customer = { customerId: randomUUID(), submissions: new Map() };
      customers.set(key, customer);
    }
    const formId = b.formId as string;
    let submissionId = customer.submissions.get(formId);
    if (!submissionId) customer.submissions.set(formId, (submissionId = randomUUID()));
    return {
      status: 200,
      body: {
        version: null,
        statusCode: 200,
        messages: [KYC_MESSAGES.ok],
        result: {
          sessionId: randomUUID(),
          expiryDate: dotnetDate(now() + lifetimeMs),
          submissionId,
          customerId: customer.customerId,
          clientId: asked ?? defaultClientId,
          isNewCustomer,
        },
      },
    };
  }

  return {
    routes: [{ name: 'kyc', method: 'POST', path: '/api/AppSessionManager/GetSessionId', handler: getSessionId }],
    reset() {
      customers.clear();
      calls.clear();
    },
  };
}

/** `2026-02-05T05:47:26.7880000Z`: seven fractional digits, as .NET writes a UTC DateTime (GetSessionId's `expiryDate`). */
function dotnetDate(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '0000Z');
}

function reply(status: number, message: string, headers?: Record<string, string>): MockReply {
  return { status, body: { version: null, statusCode: status, messages: [message], result: null }, ...(headers ? { headers } : {}) };
}

function fieldsFilled(v: unknown, keys: string[]): boolean {
  return isRecord(v) && keys.every((k) => filled(v[k]));
}

function filled(v: unknown): v is string {
  return typeof v === 'string' && v.trim() !== '';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function text(value: string | undefined, fallback: string, name: string): string {
  if (value === undefined) return fallback;
  if (!filled(value)) throw new TypeError(`${name}: expected a non-empty string.`);
  return value;
}

function list(value: string[] | undefined, fallback: string[], name: string): string[] {
  if (value === undefined) return fallback;
  if (!Array.isArray(value) || !value.every(filled)) throw new TypeError(`${name}: expected an array of non-empty strings.`);
  return value;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0)) throw new TypeError(`${name}: expected a positive number, got ${String(value)}.`);
  return value;
}
