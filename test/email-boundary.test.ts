// The one e-mail rule over real sockets (SECURITY.md, issue 12 item 7; the
// in-process twin is email.test.ts). Generated e-mails go to POST /login of
// every adapter's conformance app as raw HTTP, JSON and urlencoded, against
// the real mock upstream. The oracle is core's `canonicalEmail` applied to the
// string the server decodes (a form turns a lone surrogate into U+FFFD):
// - it refuses  -> 400 BAD_REQUEST (a form: 303 to the login page with
//   error=BAD_REQUEST) and the upstream sees no login call with this password;
// - it accepts  -> the upstream's login receives exactly canonicalEmail(input)
//   (read from the mock's request log) and the answer is a login: 200/303 with
//   a session for an account registered under that address with its password,
//   else 401 INVALID_CREDENTIALS (a form: 303 with error=INVALID_CREDENTIALS);
//   for a registered account, POST /kyc/session sends the KYC upstream exactly
//   canonicalEmail(input) as the customer's e-mail.
// Never a 5xx; no response (body or Location) repeats the password, nor, except
// the signed-in identity's own e-mail, the address. Each attempt carries a
// unique password, which ties the mock's log lines to it. `loginThrottle: false`
// and a mock without its own lockout, so 1,000 attempts per app are all answered.
// Inputs from fc.sample with a fixed seed (IDGATE_EMAIL_BOUNDARY_SEED / _RUNS).
//
// The password rule, in the same apps: a password the server decodes as a
// non-empty string of at most 1,024 UTF-16 units reaches the upstream exactly
// as decoded; an empty or missing one is 400 BAD_REQUEST and a longer one 401
// INVALID_CREDENTIALS, both without an upstream call (core's provider wrapper,
// the same for every provider); a body over bodyLimit.login is 413 unread.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalEmail } from '@idgate/core/adapter';
import { createKycClient } from '@idgate/kyc';
import { MOCK_KYC_APP_ID, MOCK_KYC_APP_SECRET, MOCK_KYC_FORM_ID, MOCK_KYC_TENANT_ID } from '@idgate/mock-upstream';
import { adapters } from './adapters/index.js';
import type { RunningApp } from './adapters/types.js';
import { optionsFor, startMockUpstream, type MockUpstream } from './harness.js';
import { exchange, inPool, type RawAnswer } from './raw-socket.js';

/** Generated e-mails per adapter: about 2 s per adapter on 2 cores. */
const RUNS = Number(process.env.IDGATE_EMAIL_BOUNDARY_RUNS ?? 1_000);
const SEED = Number(process.env.IDGATE_EMAIL_BOUNDARY_SEED ?? 5_321);
const IN_FLIGHT = 16;
/** Attempts per round; the mock keeps its last 500 requests (logins, profiles, KYC), read after each round. */
const ROUND = 120;

// ---- the generator ------------------------------------------------------------------------------

/** Look-alikes, case pairs without a precomposed capital (T + U+0308 lowercases to ẗ), invisible and width variants. */
const ODD_CHARS = [
  '\u0430', '\u0435', '\u043e', '\u03bf', '\uff41', '\u212a', '\u017f', '\u0131', '\u0130', '\u00df', '\u1e9e', '\u03a3', '\u00c5', '\u212b',
  'T\u0308', 'W\u030a', 'Y\u030a', 'J\u030c', 'H\u0331', 'e\u0301', 'A\u030a', '\u0130\u0327', '\u0391\u0342', '\u03a9\u0345', '\u1fbc\u0301',
  '\u200b', '\u200d', '\u202e', '\ufeff', '\u00a0', '\u2028', '\uff20', '\u3002', '\ud83d\udca5', '\ud800', '\u00e9', '\u7528', '\u4f8b',
];
const CONTROL = ['\u0000', '\u0001', '\u001f', '\u007f', '\r', '\n', '\r\n', '\t', '\u0085'];

const flipSome = (s: string, mask: number) => [...s].map((c, i) => ((mask >> i % 30) & 1 ? c.toUpperCase() : c)).join('');
const insertAt = (s: string, piece: string, where: number) => {
  const i = s.length === 0 ? 0 : where % (s.length + 1);
  return s.slice(0, i) + piece + s.slice(i);
};

const hostileEmail: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.emailAddress() },
  { weight: 3, arbitrary: fc.tuple(fc.emailAddress(), fc.nat()).map(([e, m]) => flipSome(e, m)) },
  { weight: 3, arbitrary: fc.tuple(fc.emailAddress(), fc.constantFrom(...ODD_CHARS), fc.nat()).map(([e, c, w]) => insertAt(e, c, w)) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...ODD_CHARS), fc.constantFrom(...ODD_CHARS), fc.constantFrom('example.com', 'B\u00fccher.DE', 'xn--bcher-kva.de', '\u4f8b\u5b50.\u5e7f\u544a', 'M\u00fcnchen.de')).map(([a, b, d]) => `${a}x${b}@${d}`) },
  { weight: 2, arbitrary: fc.tuple(fc.emailAddress(), fc.constantFrom(...CONTROL), fc.nat()).map(([e, c, w]) => insertAt(e, c, w)) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(' ', '\t', '\u00a0', '\ufeff', '\u3000', '\n', ''), fc.emailAddress(), fc.constantFrom(' ', '\t', '\u2028', '\r\n', '')).map(([a, e, b]) => a + e + b) },
  // Lengths around each limit: local 64 bytes, labels 63, domain 253, address 254, input 1024.
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      `${'a'.repeat(64)}@example.com`, `${'a'.repeat(65)}@example.com`, `${'\u00e9'.repeat(32)}@example.com`, `${'\u00e9'.repeat(33)}@example.com`,
      `a@${'b'.repeat(63)}.com`, `a@${'b'.repeat(64)}.com`, `a@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.${'e'.repeat(57)}.com`,
      `${'a'.repeat(60)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(60)}.com`, `${'a'.repeat(1_030)}@example.com`, `a@${'b.'.repeat(600)}com`,
    ),
  },
  // Grammar edges: quoted local parts, comments, dots, several '@', IP literals, percent-encoding, IDNA.
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      '"a b"@example.com', '"a"@example.com', '"a@b"@example.com', 'a(comment)@example.com', 'a@(comment)example.com', 'a@example.com(comment)',
      'a.@example.com', '.a@example.com', 'a..b@example.com', 'a@example.com.', 'a@.example.com', 'a@example..com', 'a@b@example.com', '@example.com',
      'a@', '@', 'a', '', ' ', 'a@[127.0.0.1]', 'a@127.0.0.1', 'a@1.2.3.4', 'a@0x7f.1', 'a%40example.com', 'a@example%2ecom', 'a@ex%61mple.com',
      'a+tag@example.com', 'a&b=c@example.com', 'a=b@example.com', 'a#b@example.com', "o'hara@example.com", 'a@xn--bcher-kva.de', 'a@xn--zz.de',
      'a@xn--.de', 'a@-a.com', 'a@a-.com', 'a@exa_mple.com', 'a@example.c', 'a@example.123', 'A@EXAMPLE.COM', 'Demo@Example.com', 'a\\b@example.com',
      'a@b\u3002com', 'a\uff20example.com', 'j\u00f6rg@b\u00fccher.de', '\u7528\u6237@\u4f8b\u5b50.\u5e7f\u544a', 'a@\u00e9xample.com',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }).map((s) => `${s}@example.com`) },
);

/** A JSON value that is not a string: the e-mail field must be refused, never coerced. */
const notAString = fc.constantFrom<unknown>(1, 0, -1.5, null, true, false, [], ['a@example.com'], { a: 1 }, { toString: 'a@example.com' }, [['demo@example.com']]);

interface Attempt { email: unknown; form: boolean; register: boolean }

const attemptArb: fc.Arbitrary<Attempt> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ email: hostileEmail as fc.Arbitrary<unknown>, form: fc.boolean(), register: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ email: notAString, form: fc.constant(false), register: fc.constant(false) }) },
);

/** The string the server decodes: a form's UTF-8 percent-encoding has no lone surrogates (they become U+FFFD). */
const decoded = (a: Attempt): unknown => (a.form && typeof a.email === 'string' ? Buffer.from(a.email, 'utf8').toString('utf8') : a.email);

/** Passwords: any text, lengths around the 1,024-unit cap (in UTF-16 units, astral characters count two), control characters, non-strings. */
const PASSWORD_RUNS = Number(process.env.IDGATE_PASSWORD_BOUNDARY_RUNS ?? 300);
const aroundCap = fc.tuple(fc.integer({ min: 1_020, max: 1_028 }), fc.constantFrom('x', '\u00e9', '\ud83d\udca5', ' ', '\u0000')).map(([n, c]) => c.repeat(Math.ceil(n / c.length)).slice(0, n));
const passwordArb = fc.record({
  password: fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) as fc.Arbitrary<unknown> },
    { weight: 3, arbitrary: aroundCap },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1_025, maxLength: 2_000 }) },
    { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 10 }), fc.constantFrom(...CONTROL), fc.string({ maxLength: 10 })).map(([a, c, b]) => a + c + b) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>('', ' ', 1, null, true, [], ['pw'], { a: 1 }, undefined) },
  ),
  form: fc.boolean(),
  register: fc.boolean(),
});

// ---- the suite ----------------------------------------------------------------------------------

interface Planned extends Attempt { i: number; password: string; canonical: string | null; signIn: boolean }
interface Outcome { login: RawAnswer; kyc?: RawAnswer | undefined }

/** A response body's JSON, or {} when it is not JSON (that outcome then fails on its status or code). */
function json(body: string): { error?: string; identity?: { email?: string } } {
  try {
    return JSON.parse(body) as { error?: string; identity?: { email?: string } };
  } catch {
    return {};
  }
}

const post = (port: number, path: string, type: string, body: string, cookie?: string) => {
  const bytes = Buffer.from(body, 'utf8');
  const head =
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: http://127.0.0.1:${port}\r\nContent-Type: ${type}\r\n` +
    `Content-Length: ${bytes.length}\r\n${cookie ? `Cookie: ${cookie}\r\n` : ''}Connection: close\r\n\r\n`;
  return exchange(port, Buffer.concat([Buffer.from(head, 'latin1'), bytes]));
};

describe.each(adapters.map((a) => [a.name, a] as const))('%s: the e-mail rule over sockets', (name, adapter) => {
  let mock: MockUpstream;
  let app: RunningApp;
  let port: number;

  beforeAll(async () => {
    mock = await startMockUpstream({ port: 0, loginAttemptLimit: 1_000_000, kyc: { rateLimit: 1_000_000 } });
    const kyc = createKycClient({
      baseUrl: mock.url, appId: MOCK_KYC_APP_ID, appSecret: MOCK_KYC_APP_SECRET, tenantId: MOCK_KYC_TENANT_ID, formId: MOCK_KYC_FORM_ID,
      http: { timeout: 1_000, totalTimeout: 4_000, retries: 2, backoffBase: 20, backoffMax: 100, retryAfterMax: 2_000 },
    });
    // Upstream time bounds for a busy 2-core machine: an answer that comes late is not what this file tests.
    app = await adapter.start({ idgate: optionsFor(mock, { loginThrottle: false, upstream: { timeout: 3_000, totalTimeout: 8_000 } }), kyc: { client: kyc } });
    port = Number(new URL(app.url).port);
  });
  afterAll(async () => {
    await app.close();
    await mock.close();
  });

  it(`${RUNS} generated e-mails, JSON and form: 400 iff canonicalEmail refuses, else the upstream gets exactly canonicalEmail`, async () => {
    const attempts = fc.sample(attemptArb, { numRuns: RUNS, seed: SEED });
    // One registered account per canonical address, registered under the generated spelling itself.
    const registered = new Set<string>();
    const plan: Planned[] = attempts.map((a, i) => {
      const canonical = canonicalEmail(decoded(a));
      const signIn = a.register && canonical !== null && !registered.has(canonical);
      if (signIn) registered.add(canonical);
      return { ...a, i, canonical, signIn, password: `pw-${i}-${Math.random().toString(36).slice(2, 10)}` };
    });
    for (const p of plan) if (p.signIn) mock.addCustomer({ email: decoded(p) as string, password: p.password, id: `c_${p.i}`, name: 'Ada Lovelace' });

    const failures: string[] = [];
    const tally = new Map<string, number>();
    const started = performance.now();
    for (let from = 0; from < plan.length; from += ROUND) {
      const round = plan.slice(from, from + ROUND);
      mock.reset({ only: 'calls' });
      const outcomes = await inPool(round, IN_FLIGHT, async (p): Promise<Outcome> => {
        const login = p.form
          ? await post(port, '/login', 'application/x-www-form-urlencoded', new URLSearchParams({ email: p.email as string, password: p.password }).toString())
          : await post(port, '/login', 'application/json', JSON.stringify({ email: p.email, password: p.password }));
        const session = /^identityId=([^;]+)/.exec(login.headers['set-cookie'] ?? '')?.[1];
        const kyc = p.signIn && session ? await post(port, '/kyc/session', 'application/json', '{}', `identityId=${session}`) : undefined;
        return { login, kyc };
      });
      const log = mock.requests();
      expect(log.length).toBeLessThan(500); // nothing fell out of the mock's log
      const logins = new Map<string, string[]>();
      for (const r of log.filter((r) => r.route === 'login')) {
        const body = r.body as { email?: string; password?: string };
        logins.set(body.password ?? '', [...(logins.get(body.password ?? '') ?? []), String(body.email)]);
      }
      const kycEmails = log.filter((r) => r.route === 'kyc').map((r) => (r.body as { customerEmail?: string }).customerEmail);
      round.forEach((p, j) => {
        const { login, kyc } = outcomes[j]!;
        const fail = (why: string) => failures.push(`${why}: ${JSON.stringify(p.email)} (${p.form ? 'form' : 'json'}${p.signIn ? ', registered' : ''}) -> ${login.status} ${login.headers.location ?? ''} ${login.body.slice(0, 160)}`);
        const code = p.form ? /[?&]error=([A-Z_]+)/.exec(login.headers.location ?? '')?.[1] : json(login.body).error;
        const outcome = login.status === 303 && !code ? 'signed-in (form)' : login.status === 200 ? 'signed-in' : `${login.status} ${code}`;
        tally.set(outcome, (tally.get(outcome) ?? 0) + 1);
        const sent = logins.get(p.password) ?? [];
        if (login.status >= 500 || login.status === 0) fail('5xx or no answer');
        if (p.canonical === null) {
          if (!(login.status === (p.form ? 303 : 400) && code === 'BAD_REQUEST')) fail('expected BAD_REQUEST');
          if (sent.length) fail(`the upstream was called with ${JSON.stringify(sent)}`);
        } else {
          if (sent.length !== 1 || sent[0] !== p.canonical) fail(`the upstream got ${JSON.stringify(sent)}, not ${JSON.stringify(p.canonical)}`);
          if (p.signIn) {
            if (!(login.status === (p.form ? 303 : 200) && !code && login.headers['set-cookie'])) fail('a registered account was not signed in');
            if (!p.form && json(login.body).identity?.email !== p.canonical) fail('the identity has another e-mail');
            if (kyc?.status !== 200) fail(`KYC answered ${kyc?.status} ${kyc?.body.slice(0, 120)}`);
            else if (!kycEmails.includes(p.canonical)) fail(`the KYC upstream did not get ${JSON.stringify(p.canonical)}`);
          } else if (!(login.status === (p.form ? 303 : 401) && code === 'INVALID_CREDENTIALS')) fail('expected INVALID_CREDENTIALS');
        }
        // Nothing echoed: the password never; the address only as the signed-in identity's own.
        const shown = `${login.body}\n${login.headers.location ?? ''}\n${kyc?.body ?? ''}`;
        if (shown.includes(p.password)) fail('the password is echoed');
        const spellings = typeof p.email === 'string' && p.email.length >= 5 && p.email.includes('@') ? [p.email, JSON.stringify(p.email).slice(1, -1), encodeURIComponent(Buffer.from(p.email, 'utf8').toString('utf8'))] : [];
        if (!p.signIn && [...spellings, ...(p.canonical ? [p.canonical] : [])].some((s) => shown.includes(s))) fail('the e-mail is echoed');
        if (/\n\s+at |Error: /.test(shown)) fail('a stack or error text in a response');
      });
      // One KYC call per KYC post: with distinct expected addresses, each post sent its own.
      expect(kycEmails.length).toBe(outcomes.filter((o) => o.kyc).length);
    }
    const elapsed = Math.round(performance.now() - started);
    console.info(`[email-boundary] ${name}: ${plan.length} attempts (${plan.filter((p) => p.form).length} form, ${registered.size} registered + KYC) in ${elapsed} ms; outcomes ${JSON.stringify(Object.fromEntries(tally))}; failures ${failures.length}`);
    if (failures.length) console.error(`[email-boundary] ${name} failures (first 20):\n${failures.slice(0, 20).join('\n')}`);
    expect(failures).toEqual([]);
    // The generator reaches both sides of the rule, and real sign-ins.
    expect(plan.filter((p) => p.canonical === null).length).toBeGreaterThan(RUNS / 5);
    expect(plan.filter((p) => p.canonical !== null).length).toBeGreaterThan(RUNS / 5);
    expect(registered.size).toBeGreaterThan(RUNS / 10);
  }, 120_000);

  it(`${PASSWORD_RUNS} generated passwords, JSON and form: the upstream gets exactly the decoded password iff it is 1 to 1,024 units long`, async () => {
    const plan = fc.sample(passwordArb, { numRuns: PASSWORD_RUNS, seed: SEED + 1 }).map((a, i) => {
      const email = `pw${i}-${Math.random().toString(36).slice(2, 8)}@example.com`;
      const password = a.form && typeof a.password === 'string' ? Buffer.from(a.password, 'utf8').toString('utf8') : a.password;
      const body = a.form
        ? `email=${encodeURIComponent(email)}${typeof password === 'string' ? `&password=${encodeURIComponent(password)}` : ''}`
        : JSON.stringify({ email, password: a.password });
      // Over bodyLimit.login (16,384 bytes) the body is refused before it is read: 413 on every adapter.
      const verdict =
        Buffer.byteLength(body, 'utf8') > 16_384 ? 'PAYLOAD_TOO_LARGE'
        : typeof password !== 'string' || password === '' ? 'BAD_REQUEST'
        : password.length > 1_024 ? 'INVALID_CREDENTIALS'
        : 'upstream';
      return { ...a, i, email, body, decoded: password, verdict };
    });
    for (const p of plan) if (p.register && p.verdict === 'upstream') mock.addCustomer({ email: p.email, password: p.decoded as string, id: `p_${p.i}`, name: 'Ada Lovelace' });
    const failures: string[] = [];
    for (let from = 0; from < plan.length; from += ROUND) {
      const round = plan.slice(from, from + ROUND);
      mock.reset({ only: 'calls' });
      const answers = await inPool(round, IN_FLIGHT, (p) => post(port, '/login', p.form ? 'application/x-www-form-urlencoded' : 'application/json', p.body));
      const sent = new Map<string, unknown[]>();
      for (const r of mock.requests().filter((r) => r.route === 'login')) {
        const body = r.body as { email?: string; password?: unknown };
        sent.set(String(body.email), [...(sent.get(String(body.email)) ?? []), body.password]);
      }
      round.forEach((p, j) => {
        const answer = answers[j]!;
        const code = p.form && answer.status === 303 ? /[?&]error=([A-Z_]+)/.exec(answer.headers.location ?? '')?.[1] : json(answer.body).error;
        const got = sent.get(p.email) ?? [];
        const fail = (why: string) => failures.push(`${why}: ${JSON.stringify(p.password).slice(0, 80)} (${p.form ? 'form' : 'json'}) -> ${answer.status} ${code ?? ''}`);
        if (answer.status >= 500 || answer.status === 0) fail('5xx or no answer');
        if (p.verdict !== 'upstream') {
          if (got.length) fail('the upstream was called');
          const status = p.verdict === 'PAYLOAD_TOO_LARGE' ? 413 : p.form ? 303 : p.verdict === 'BAD_REQUEST' ? 400 : 401;
          if (!(answer.status === status && code === p.verdict)) fail(`expected ${p.verdict}`);
        } else {
          if (got.length !== 1 || got[0] !== p.decoded) fail('the upstream did not get exactly the decoded password');
          const signedIn = answer.status === (p.form ? 303 : 200) && !code && !!answer.headers['set-cookie'];
          if (p.register ? !signedIn : code !== 'INVALID_CREDENTIALS') fail(p.register ? 'a registered account was not signed in' : 'expected INVALID_CREDENTIALS');
        }
        if (typeof p.password === 'string' && p.password.length >= 6 && `${answer.body}${answer.headers.location ?? ''}`.includes(p.password)) fail('the password is echoed');
      });
    }
    if (failures.length) console.error(`[password-boundary] ${name} failures (first 20):\n${failures.slice(0, 20).join('\n')}`);
    expect(failures).toEqual([]);
    // Every side of the rule is reached.
    for (const verdict of ['BAD_REQUEST', 'INVALID_CREDENTIALS', 'upstream']) expect(plan.filter((p) => p.verdict === verdict).length).toBeGreaterThan(PASSWORD_RUNS / 20);
  }, 120_000);
});
