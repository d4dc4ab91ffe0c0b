import { createHash, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import type { MockModule, MockReply, MockRequest } from './server.js';

/** A BizKitHub login error code (`POST /api/v1/customer/login`). */
export type LoginErrorCode = 'E001' | 'E002' | 'E003' | 'E004' | 'E005' | 'E006' | 'E007';

/** The exact messages of the login API's documented error table. */
export const LOGIN_ERRORS: Readonly<Record<LoginErrorCode, string>> = {
  E001: 'Customer login failed.',
  E002: 'Customer e-mail does not exist.',
  E003: 'Customer have not a registered account.',
  E004: 'Wrong e-mail or password.',
  E005: 'Customer account has been banned.',
  E006: 'Too many login attempts.',
  E007: 'Customer mail has not been authorized.',
};

/**
 * A customer the mock knows.
 * @example { email: 'ada@example.com', password: 'pw', name: 'Ada', attributes: { plan: 'free' } }
 */
export interface CustomerInput {
  email: string;
  password: string;
  /** Stable contact id. @default 'c_' + the first 16 hex of sha256(normalized email) */
  id?: string;
  name?: string;
  /** `false` answers E003. @default true */
  hasAccount?: boolean;
  /** `true` answers E005 once the password is right. @default false */
  banned?: boolean;
  /** `false` answers E007 once the password is right. @default true */
  emailVerified?: boolean;
  /** Every login of this customer answers this code, before any other check but E002. */
  failWith?: LoginErrorCode;
  /** Extra profile fields, spread into `contact` (they cannot override id, email, name). */
  attributes?: Record<string, unknown>;
}

/** One upstream session as tests see it. */
export interface SessionInfo {
  identityId: string;
  email: string;
  /** The normalized `customerRealIp` sent at login. */
  ip: string;
  /** Virtual-clock milliseconds of the login or the last profile call. */
  lastSeenAt: number;
  expired: boolean;
}

/** Options of the BizKitHub emulation. */
export interface BizKitHubOptions {
  /** Allow-list of API keys; any key of the right format is accepted when absent. */
  apiKeys?: string[];
  /** Inactivity after which a session answers SESSION_EXPIRED. @default 1_800_000 (30 min) */
  sessionIdleMs?: number;
  /** Failed logins (E004) per email within the window before E006. @default 5 */
  loginAttemptLimit?: number;
  /** Window for `loginAttemptLimit`. @default 900_000 (15 min) */
  loginAttemptWindowMs?: number;
  /** Customers added to (and overriding by email) the seeded ones. */
  customers?: CustomerInput[];
  /** HTTP statuses the documentation leaves open; the bodies stay as documented. */
  statuses?: BizKitHubStatuses;
}

/**
 * The HTTP status of each answer whose status the BizKitHub documentation does
 * not give (the identityId guide shows only the body of SESSION_EXPIRED / INVALID_IDENTITY;
 * the login API documentation lists E001–E007 without statuses). Each is an integer from 200 to 599.
 * @example await startMockUpstream({ statuses: { sessionExpired: 200, tooManyAttempts: 400 } })
 */
export interface BizKitHubStatuses {
  /** `{ error: 'SESSION_EXPIRED' }` on profile. @default 401 */
  sessionExpired?: number;
  /** `{ error: 'INVALID_IDENTITY' }` on profile. @default 401 */
  invalidIdentity?: number;
  /** A login failure E001–E005 or E007. @default 200 */
  loginError?: number;
  /** A login failure E006 (with `Retry-After` whatever the status). @default 429 */
  tooManyAttempts?: number;
}

/** The BizKitHub route module plus the state its control surface reaches. */
export interface BizKitHub extends MockModule {
  addCustomer(input: CustomerInput): { id: string; email: string };
  expire(target: { email: string } | { identityId: string }): number;
  sessions(): SessionInfo[];
}

/** The seeded demo customer's credentials. */
export const DEMO_CUSTOMER = { email: 'demo@example.com', password: 'demo-password' } as const;

/** A ready-made key of the accepted format, for tests and local demos. */
export const MOCK_API_KEY = 'DEV_idgateMockUpstreamLocalKey00';

const SEED: readonly CustomerInput[] = [
  { ...DEMO_CUSTOMER, id: 'c_demo', name: 'Demo Customer', attributes: { plan: 'pro' } },
  { email: 'banned@example.com', password: 'demo-password', id: 'c_banned', name: 'Banned Customer', banned: true },
  { email: 'unverified@example.com', password: 'demo-password', id: 'c_unverified', name: 'Unverified Customer', emailVerified: false },
  { email: 'noaccount@example.com', password: 'demo-password', id: 'c_noaccount', name: 'No Account Customer', hasAccount: false },
];

const API_KEY = /^(PROD|DEV_|ROOT)[A-Za-z0-9]{28}$/;
const IDENTITY_ID = /^[A-Za-z0-9]{32}$/;
// The WHATWG `input type=email` grammar, on the already-lowercased address.
// idgate's one e-mail rule (packages/core/src/normalize.ts, `canonicalEmail`),
// repeated here because the mock imports nothing of idgate's; test/email.test.ts
// holds the two to the same answers. Local part: dot-atom with non-ASCII
// letters, marks and digits (RFC 6531), at most 64 bytes; domain: IDNA to
// ASCII, then two or more LDH labels, the last not all digits.
const EMAIL_LOCAL = /^[\p{L}\p{M}\p{N}!#$%&'*+/=?^_`{|}~-]+(?:\.[\p{L}\p{M}\p{N}!#$%&'*+/=?^_`{|}~-]+)*$/u;
const EMAIL_DOMAIN_CHARS = /^[\p{L}\p{M}\p{N}.-]+$/u;
const EMAIL_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const CODES = new Set(Object.keys(LOGIN_ERRORS));

const INVALID_API_KEY: MockReply = { status: 401, body: { success: false, error: 'INVALID_API_KEY', message: 'Invalid API key.' } };
const LOGGED_OUT: MockReply = { status: 200, body: { success: true } };

interface Customer {
  email: string;
  password: string;
  id: string;
  name: string | undefined;
  hasAccount: boolean;
  banned: boolean;
  emailVerified: boolean;
  failWith: LoginErrorCode | undefined;
  attributes: Record<string, unknown>;
}

interface Session {
  identityId: string;
  email: string;
  ip: string;
  lastSeenAt: number;
  expired: boolean;
}

/**
 * Creates the BizKitHub customer identity emulation: routes `login`, `profile`, `logout`.
 * @example const bizkithub = createBizKitHub({ sessionIdleMs: 60_000 }, Date.now);
 */
export function createBizKitHub(options: BizKitHubOptions, now: () => number): BizKitHub {
  const idleMs = positive(options.sessionIdleMs, 30 * 60_000, 'sessionIdleMs');
  const attemptLimit = positive(options.loginAttemptLimit, 5, 'loginAttemptLimit');
  const attemptWindowMs = positive(options.loginAttemptWindowMs, 15 * 60_000, 'loginAttemptWindowMs');
  const statuses = statusesOf(options.statuses);
  const INVALID_IDENTITY: MockReply = { status: statuses.invalidIdentity, body: { success: false, error: 'INVALID_IDENTITY' } };
  const SESSION_EXPIRED: MockReply = { status: statuses.sessionExpired, body: { success: false, error: 'SESSION_EXPIRED' } };
  const loginError = (code: LoginErrorCode): MockReply => ({ status: statuses.loginError, body: { success: false, error: code, message: LOGIN_ERRORS[code] } });
  const tooMany = (ms: number): MockReply => ({
    status: statuses.tooManyAttempts,
    headers: { 'retry-after': String(Math.max(1, Math.ceil(ms / 1000))) },
    body: { success: false, error: 'E006', message: LOGIN_ERRORS.E006 },
  });
  const allowed = options.apiKeys && new Set(options.apiKeys);
  for (const key of options.apiKeys ?? []) {
    if (!API_KEY.test(key)) throw new TypeError(`apiKeys: "${key}" does not match ${API_KEY}`);
  }
  const seed = [...SEED, ...(options.customers ?? [])].map(toCustomer);

  const customers = new Map<string, Customer>();
  const sessions = new Map<string, Session>();
  // Timestamps of recent E004 answers per normalized email.
  const failures = new Map<string, number[]>();

  function reset(): void {
    customers.clear();
    for (const c of seed) customers.set(c.email, c);
    sessions.clear();
    failures.clear();
  }
  reset();

  function isExpired(s: Session): boolean {
    // Sticky: once a session has been seen expired it never comes back.
    if (!s.expired && now() - s.lastSeenAt > idleMs) s.expired = true;
    return s.expired;
  }

  /**
   * The 400 or 401 the upstream answers before looking at the fields, or null
   * when the call may proceed. `login` reads the key where the login API documentation puts it
   * (Bearer token or `?apiKey=`, never the body); `profile` and `logout` where
   * the identityId guide puts it (the body's `apiKey`, never a header or the query).
   */
  function refuse(req: MockRequest, keyIn: 'query-or-bearer' | 'body'): MockReply | null {
    if (req.malformed) return badRequest('Malformed JSON body.');
    if (req.body !== undefined && !isRecord(req.body)) return badRequest('The body must be a JSON object.');
    const key = keyIn === 'body' ? fields(req).apiKey : apiKeyOf(req);
    if (typeof key !== 'string' || !API_KEY.test(key) || (allowed && !allowed.has(key))) return INVALID_API_KEY;
    return null;
  }

  function login(req: MockRequest): MockReply {
    const refused = refuse(req, 'query-or-bearer');
    if (refused) return refused;
    const { email: rawEmail, password, customerRealIp } = fields(req);
    if (typeof rawEmail !== 'string') return badRequest('email must be a string.');
    if (typeof password !== 'string') return badRequest('password must be a string.');
    const email = normalizeEmail(rawEmail);
    if (email === null) return badRequest('email is not a valid e-mail address.');
    const ip = normalizeIp(customerRealIp);
    if (ip === null) return badRequest('customerRealIp must be a valid IPv4 or IPv6 address.');

    const customer = customers.get(email);
    if (!customer) return loginError('E002');
    if (customer.failWith === 'E006') return tooMany(attemptWindowMs);
    if (customer.failWith) return loginError(customer.failWith);
    const t = now();
    const recent = (failures.get(email) ?? []).filter((at) => t - at < attemptWindowMs);
    if (recent.length >= attemptLimit) {
      // The window frees when enough of the oldest failures age out to go under the limit.
      const freeAt = recent[recent.length - attemptLimit]! + attemptWindowMs;
      return tooMany(freeAt - t);
    }
    if (!customer.hasAccount) return loginError('E003');
    if (password !== customer.password) {
      recent.push(t);
      failures.set(email, recent);
      return loginError('E004');
    }
    if (customer.banned) return loginError('E005');
    if (!customer.emailVerified) return loginError('E007');

    failures.delete(email);
    let identityId = newIdentityId();
    while (sessions.has(identityId)) identityId = newIdentityId();
    sessions.set(identityId, { identityId, email, ip, lastSeenAt: t, expired: false });
    return { status: 200, body: { success: true, identityId } };
  }

  function profile(req: MockRequest): MockReply {
    const refused = refuse(req, 'body');
    if (refused) return refused;
    const { identityId } = fields(req);
    if (typeof identityId !== 'string') return badRequest('identityId must be a string.');
    const session = IDENTITY_ID.test(identityId) ? sessions.get(identityId) : undefined;
    const customer = session && customers.get(session.email);
    if (!session || !customer) return INVALID_IDENTITY;
    if (isExpired(session)) return SESSION_EXPIRED;
    session.lastSeenAt = now();
    const core = { id: customer.id, email: customer.email, name: customer.name };
    // Spread twice so the key order reads id, email, name and attributes cannot override them.
    return { status: 200, body: { success: true, contact: { ...core, ...customer.attributes, ...core } } };
  }

  function logout(req: MockRequest): MockReply {
    const refused = refuse(req, 'body');
    if (refused) return refused;
    const { identityId } = fields(req);
    if (typeof identityId !== 'string') return badRequest('identityId must be a string.');
    sessions.delete(identityId);
    return LOGGED_OUT;
  }

  return {
    routes: [
      { name: 'login', method: 'POST', path: '/api/v1/customer/login', handler: login },
      { name: 'profile', method: 'POST', path: '/api/v1/contact/profile', handler: profile },
      { name: 'logout', method: 'POST', path: '/api/v1/contact/logout', handler: logout },
    ],
    reset,
    addCustomer(input) {
      const c = toCustomer(input);
      customers.set(c.email, c);
      return { id: c.id, email: c.email };
    },
    expire(target) {
      const { email, identityId } = (isRecord(target) ? target : {}) as { email?: unknown; identityId?: unknown };
      let match: (s: Session) => boolean;
      if (typeof email === 'string') {
        const normalized = normalizeEmail(email);
        match = (s) => s.email === normalized;
      } else if (typeof identityId === 'string') {
        match = (s) => s.identityId === identityId;
      } else {
        throw new TypeError('expire: give { email } or { identityId } as a string.');
      }
      let n = 0;
      for (const s of sessions.values()) {
        if (match(s) && !isExpired(s)) {
          s.expired = true;
          n++;
        }
      }
      return n;
    },
    sessions() {
      return [...sessions.values()].map((s) => ({ ...s, expired: isExpired(s) }));
    },
  };
}

/** Canonicalizes an e-mail address (NFC, trimmed, lowercased, the domain in IDNA ASCII form); null when it is not one. */
export function normalizeEmail(raw: string): string | null {
  if (typeof raw !== 'string' || raw.length > 1024) return null;
  // NFC again after lowercasing, which can undo it (`T` + U+0308 lowercases to a composable `t` + U+0308).
  const email = raw.normalize('NFC').trim().toLowerCase().normalize('NFC');
  const at = email.lastIndexOf('@');
  if (at <= 0) return null;
  const local = email.slice(0, at);
  const rawDomain = email.slice(at + 1);
  if (Buffer.byteLength(local) > 64 || !EMAIL_LOCAL.test(local) || !EMAIL_DOMAIN_CHARS.test(rawDomain)) return null;
  const domain = /^[\x00-\x7f]*$/.test(rawDomain) ? rawDomain : domainToASCII(rawDomain);
  if (domain === '' || domain.length > 253) return null;
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((l) => EMAIL_LABEL.test(l)) || /^\d+$/.test(labels[labels.length - 1]!)) return null;
  const out = `${local}@${domain}`;
  return Buffer.byteLength(out) <= 254 ? out : null;
}

/** Normalizes `customerRealIp` as the login API documents it; null when it is not an IP. */
export function normalizeIp(raw: unknown): string | null {
  if (raw === undefined || raw === null) return '127.0.0.1';
  if (typeof raw !== 'string') return null;
  const ip = raw.trim().toLowerCase();
  if (ip === '' || ip === '::1' || ip === '0.0.0.0' || ip === 'localhost') return '127.0.0.1';
  if (ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4) return ip.slice(7);
  return isIP(ip) === 0 ? null : ip;
}

/** 32 characters from [A-Za-z0-9], uniform: bytes >= 248 are rejected, as 248 = 4 * 62. */
function newIdentityId(): string {
  let id = '';
  while (id.length < 32) {
    for (const b of randomBytes(40)) {
      if (b < 248 && id.length < 32) id += ALPHABET[b % 62];
    }
  }
  return id;
}

// The login API takes the key as a query parameter or a Bearer token. A key in the
// body does not count there, and another Authorization scheme is no Bearer token.
function apiKeyOf(req: MockRequest): unknown {
  const auth = req.headers.authorization;
  if (auth !== undefined && /^bearer /i.test(auth)) return auth.slice(7).trim();
  return req.query.apiKey;
}

const STATUS_DEFAULTS: Required<BizKitHubStatuses> = { sessionExpired: 401, invalidIdentity: 401, loginError: 200, tooManyAttempts: 429 };

function statusesOf(input: BizKitHubStatuses | undefined): Required<BizKitHubStatuses> {
  if (input === undefined) return STATUS_DEFAULTS;
  if (!isRecord(input)) throw new TypeError('statuses: expected an object.');
  const out = { ...STATUS_DEFAULTS };
  for (const [key, value] of Object.entries(input)) {
    if (!(key in STATUS_DEFAULTS)) throw new TypeError(`statuses.${key}: not one of ${Object.keys(STATUS_DEFAULTS).join(', ')}.`);
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 200 || value > 599) {
      throw new TypeError(`statuses.${key}: expected an integer from 200 to 599.`);
    }
    out[key as keyof BizKitHubStatuses] = value;
  }
  return out;
}

function fields(req: MockRequest): Record<string, unknown> {
  return (req.body ?? {}) as Record<string, unknown>;
}

function toCustomer(input: CustomerInput): Customer {
  if (!isRecord(input)) throw new TypeError('customer: expected an object.');
  const email = typeof input.email === 'string' ? normalizeEmail(input.email) : null;
  if (email === null) throw new TypeError('customer.email: expected a valid e-mail address.');
  if (typeof input.password !== 'string') throw new TypeError('customer.password: expected a string.');
  for (const key of ['id', 'name'] as const) {
    if (input[key] !== undefined && (typeof input[key] !== 'string' || input[key] === '')) {
      throw new TypeError(`customer.${key}: expected a non-empty string.`);
    }
  }
  for (const key of ['hasAccount', 'banned', 'emailVerified'] as const) {
    if (input[key] !== undefined && typeof input[key] !== 'boolean') throw new TypeError(`customer.${key}: expected a boolean.`);
  }
  if (input.failWith !== undefined && !CODES.has(input.failWith)) throw new TypeError('customer.failWith: expected E001 to E007.');
  if (input.attributes !== undefined && !isRecord(input.attributes)) throw new TypeError('customer.attributes: expected an object.');
  return {
    email,
    password: input.password,
    id: input.id ?? `c_${createHash('sha256').update(email).digest('hex').slice(0, 16)}`,
    name: input.name,
    hasAccount: input.hasAccount ?? true,
    banned: input.banned ?? false,
    emailVerified: input.emailVerified ?? true,
    failWith: input.failWith,
    attributes: { ...input.attributes },
  };
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0)) throw new TypeError(`${name}: expected a positive number, got ${String(value)}.`);
  return value;
}

function badRequest(message: string): MockReply {
  return { status: 400, body: { success: false, error: 'BAD_REQUEST', message } };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
