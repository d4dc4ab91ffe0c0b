// The session cookie against the real frameworks, over raw sockets (DESIGN turn 2:
// "the framework's view is the truth"; the in-process twin is cookie-grammar.test.ts).
// Every adapter's conformance app (test/adapters, with the framework's own cookie
// parser mounted) answers GET /cookie-view with idgate's identity and what the
// framework's parser made of the session cookie. Generated Cookie headers mix two
// real signed sessions S (demo) and S2 (ada), near misses of them, garbage,
// look-alike names, names inside other cookies' values, odd separators, several
// Cookie lines, obs-fold and control bytes, and headers near Node's 16 KiB limit.
// The oracle is a model of RFC 6265 §4.2.1/§5.4 as SECURITY.md documents idgate's
// reading, written here without idgate's code: split on ';' only, the first pair
// whose name (spaces/tabs trimmed) is exactly the session name, its value trimmed
// of spaces/tabs, one pair of double quotes dropped, percent-decoded when that
// works. Per header: the request is authenticated as X exactly when the oracle's
// value is X's cookie; no 5xx, no stack, no silence; Node's 400/431 is a valid
// answer (counted). Disagreements between the framework's parser and idgate are
// counted and printed per adapter. Headers come from fc.sample with a fixed seed
// (IDGATE_COOKIE_BOUNDARY_SEED, IDGATE_COOKIE_BOUNDARY_RUNS to vary), so a failure replays.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { adapters } from './adapters/index.js';
import type { RunningApp } from './adapters/types.js';
import { optionsFor, randomId, startMockUpstream, type MockUpstream } from './harness.js';
import { exchange, inPool, type RawAnswer } from './raw-socket.js';

/** Generated headers per adapter: about 2 s per adapter on 2 cores. */
const RUNS = Number(process.env.IDGATE_COOKIE_BOUNDARY_RUNS ?? 5_000);
const SEED = Number(process.env.IDGATE_COOKIE_BOUNDARY_SEED ?? 6_265);
const IN_FLIGHT = 16;
const NAME = 'identityId';
const ADA = { email: 'ada@example.com', password: 'ada-password', id: 'c_ada', name: 'Ada Lovelace' };

// ---- the oracle ---------------------------------------------------------------------------------

const trimOws = (s: string) => s.replace(/^[ \t]+|[ \t]+$/g, '');

/** The session cookie's value in a (joined) Cookie header, per RFC 6265 §4.2.1/§5.4 as idgate documents it. */
function oracleCookie(header: string | null, name: string): string | undefined {
  if (header === null) return undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq === -1 || trimOws(pair.slice(0, eq)) !== name) continue;
    let value = trimOws(pair.slice(eq + 1));
    // One pair of quotes; a lone '"' is '' (the cookie package's reading, which idgate follows).
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (!value.includes('%')) return value;
    try {
      return decodeURIComponent(value);
    } catch {
      return value;
    }
  }
  return undefined;
}

/** What Node makes of several Cookie lines: each value trimmed of spaces/tabs, joined with '; '. */
const nodeJoin = (lines: readonly string[]) => lines.map(trimOws).join('; ');

// ---- the generator ------------------------------------------------------------------------------

interface Case { lines: string[]; headerName: string }

const flipCase = (c: string) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase());
const pct = (c: string, upper: boolean) => {
  const hex = c.charCodeAt(0).toString(16).padStart(2, '0');
  return '%' + (upper ? hex.toUpperCase() : hex);
};
const at = (s: string) => fc.integer({ min: 0, max: s.length - 1 });

/** S itself, spellings of S that still decode to S, and near misses that must not. */
function nearMiss(s: string, other: string): fc.Arbitrary<string> {
  const [id = '', issued = '', tag = ''] = s.split('.');
  const [, otherIssued = '', otherTag = ''] = other.split('.');
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant(s) },
    at(s).map((i) => s.slice(0, i)), // truncated
    fc.constantFrom('x', '.', '=', ' x', '%00', '\t.', 'A').map((x) => s + x),
    at(s).map((i) => s.slice(0, i) + flipCase(s[i]!) + s.slice(i + 1)), // one character's case flipped (same if not a letter)
    fc.constant(s.toUpperCase()),
    fc.tuple(at(s), fc.constantFrom('.', '..')).map(([i, d]) => s.slice(0, i) + d + s.slice(i)), // extra dots
    fc.constantFrom(`.${s}`, `${s}.`, `${id}..${issued}.${tag}`, `${id}.${issued}.${tag}.${tag}`),
    fc.tuple(at(s), fc.boolean()).map(([i, u]) => s.slice(0, i) + pct(s[i]!, u) + s.slice(i + 1)), // percent-encoded: still S
    fc.boolean().map((u) => [...s].map((c) => pct(c, u)).join('')), // all percent-encoded: still S
    at(s).map((i) => s.slice(0, i) + '%25' + s.charCodeAt(i).toString(16) + s.slice(i + 1)), // double-encoded: not S
    fc.constantFrom(`"${s}"`, `"${s}`, `${s}"`, `'${s}'`, `""${s}""`, ` ${s}\t`, `\t"${s}" `, `" ${s}"`),
    fc.constantFrom(`${id}.${otherIssued}.${tag}`, `${id}.${issued}.${otherTag}`, id, `${id}.${issued}`, `${s}%`, `${s}%zz`, `${s};`, `${s},x`),
  );
}

// Bytes Node's parser accepts in a header value (obs-text included); the refused ones are in `odd` below.
const GARBAGE_CHARS = [...'abcXYZ019 \t"=,.%\\/:-_@{}[]()\'', '\u00e9', '\u00ff', '\u00a0'];
const garbage = fc.oneof(
  fc.string({ unit: fc.constantFrom(...GARBAGE_CHARS), maxLength: 12 }),
  fc.constantFrom('', 'x', 'j:{"a":1}', 'j:"x"', 's:abc.def', 'dark', '%', '%E0%A4%A'),
  fc.constant(null).map(() => randomId()),
);

const NEAR_NAMES = ['identityid', 'IdentityId', 'IDENTITYID', ' identityId', 'identityId ', '\tidentityId', 'identityId\t', '__Host-identityId', '__Secure-identityId', 'xidentityId', 'identityIdx', 'identityId.sig', 'identity%49d', '"identityId"', 'identityId identityId', ''];

function headerArb(s: string, s2: string): fc.Arbitrary<Case> {
  const value = fc.oneof({ weight: 5, arbitrary: nearMiss(s, s2) }, { weight: 3, arbitrary: nearMiss(s2, s) }, { weight: 3, arbitrary: garbage });
  const name = fc.oneof({ weight: 6, arbitrary: fc.constant(NAME) }, { weight: 4, arbitrary: fc.constantFrom(...NEAR_NAMES) }, { weight: 2, arbitrary: fc.constantFrom('pref', 'theme', 'a', 'sid') });
  const other = fc.constantFrom('pref', 'theme', 'a', '');
  const pair = fc.oneof(
    { weight: 12, arbitrary: fc.tuple(name, value).map(([n, v]) => `${n}=${v}`) },
    { weight: 1, arbitrary: name },
    { weight: 1, arbitrary: fc.constantFrom('=', '==', '') },
    { weight: 1, arbitrary: value.map((v) => `=${v}`) },
    // A session cookie smuggled inside another cookie's value.
    {
      weight: 5,
      arbitrary: fc
        .tuple(other, garbage, fc.constantFrom(' ', '\t', '', ',', ', ', '"', '=', ' x '), fc.constantFrom(NAME, `__Host-${NAME}`), value)
        .map(([o, g, glue, n, v]) => `${o}=${g}${glue}${n}=${v}${glue === '"' ? '"' : ''}`),
    },
  );
  const sep = fc.constantFrom('; ', '; ', ';', ';;', '; ;', ', ', ',', ' ', '\t', ';\t', ' ;', '\t; ', ';  ');
  const edge = fc.constantFrom('', '', '', ' ', '\t', ';', '; ', ' ;');
  const line = fc
    .tuple(edge, fc.array(fc.tuple(pair, sep), { minLength: 1, maxLength: 6 }), edge)
    .map(([lead, pairs, trail]) => lead + pairs.map(([p, s], i) => (i === pairs.length - 1 ? p : p + s)).join('') + trail);
  // Rare: a pair padded to near Node's header limit (16 KiB for the whole head), before or after the rest.
  const padded = fc.tuple(line, fc.integer({ min: 7_000, max: 16_300 }), fc.boolean()).map(([l, n, first]) => (first ? `pad=${'p'.repeat(n)}; ${l}` : `${l}; pad=${'p'.repeat(n)}`));
  // Rare: bytes Node's parser refuses (obs-fold, bare CR/LF, NUL) or accepts (obs-text, DEL).
  const odd = fc.tuple(line, fc.constantFrom('\r\n ', '\r\n\t', '\r', '\n', '\u0000', '\u007f', '\u00e9', '\u00ff', '\u0001', '\u000b')).chain(([l, b]) =>
    fc.integer({ min: 0, max: l.length }).map((i) => l.slice(0, i) + b + l.slice(i)),
  );
  const anyLine = fc.oneof({ weight: 20, arbitrary: line }, { weight: 1, arbitrary: padded }, { weight: 2, arbitrary: odd });
  return fc.record({
    lines: fc.oneof({ weight: 6, arbitrary: fc.array(anyLine, { minLength: 1, maxLength: 1 }) }, { weight: 3, arbitrary: fc.array(anyLine, { minLength: 2, maxLength: 3 }) }),
    headerName: fc.constantFrom('Cookie', 'Cookie', 'Cookie', 'cookie', 'COOKIE'),
  });
}

const request = (c: Case) =>
  `GET /cookie-view?name=${NAME} HTTP/1.1\r\nHost: 127.0.0.1\r\n${c.lines.map((l) => `${c.headerName}: ${l}\r\n`).join('')}Connection: close\r\n\r\n`;

// ---- the suite ----------------------------------------------------------------------------------

interface View { identity: string | null; status: string; parsed: unknown; header: string | null }

describe.each(adapters.map((a) => [a.name, a] as const))('%s: the session cookie as the framework and idgate read it', (name, adapter) => {
  let mock: MockUpstream;
  let app: RunningApp;
  let port: number;
  const signIn = async (email: string, password: string) => {
    const res = await fetch(`${app.url}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
    expect(res.status).toBe(200);
    return /^identityId=([^;]*)/.exec(res.headers.getSetCookie()[0]!)![1]!;
  };

  beforeAll(async () => {
    mock = await startMockUpstream({ port: 0, customers: [ADA] });
    app = await adapter.start({ idgate: optionsFor(mock, { loginThrottle: false }), cookieParser: true });
    port = Number(new URL(app.url).port);
  });
  afterAll(async () => {
    await app.close();
    await mock.close();
  });

  it(`${RUNS} generated Cookie headers: authenticated exactly when the oracle reads S or S2, never another user, no 5xx`, async () => {
    const S = await signIn('demo@example.com', 'demo-password');
    const S2 = await signIn(ADA.email, ADA.password);
    const users = new Map([[S, 'c_demo'], [S2, 'c_ada']]);
    const cases = fc.sample(headerArb(S, S2), { numRuns: RUNS, seed: SEED });
    const profileBefore = mock.calls().profile;
    const started = performance.now();
    const answers = await inPool(cases, IN_FLIGHT, (c) => exchange(port, request(c)));
    const elapsed = Math.round(performance.now() - started);

    const statuses = new Map<number, number>();
    const failures: string[] = [];
    const disagreements: string[] = [];
    let valueDisagreements = 0;
    let authenticated = 0;
    const fail = (c: Case, a: RawAnswer, why: string) => failures.push(`${why}: ${JSON.stringify(c.lines).slice(0, 300)} -> ${a.status} ${a.body.slice(0, 200)}`);
    cases.forEach((c, i) => {
      const a = answers[i]!;
      statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
      if (/\n\s+at |Error: /.test(a.body)) fail(c, a, 'stack or error text in the body');
      // Node's HTTP parser refuses bare CR/LF, NUL, obs-fold and most control bytes (400), or too long a head (431).
      if (a.status === 400 || a.status === 431) return;
      if (a.status !== 200) return fail(c, a, a.status === 0 ? 'no answer' : 'unexpected status');
      const view = JSON.parse(a.body) as View;
      // Node joins the lines with '; ' for every framework (Hono's Headers then trim the joined value's ends);
      // the oracle reads what the framework was given.
      const joined = name === 'hono' ? trimOws(nodeJoin(c.lines)) : nodeJoin(c.lines);
      if (view.header !== joined) {
        let d = 0;
        while (d < joined.length && joined[d] === view.header?.[d]) d++;
        fail(c, a, `the framework saw another header, from character ${d}: ${JSON.stringify(view.header?.slice(Math.max(0, d - 20), d + 40))} for ${JSON.stringify(joined.slice(Math.max(0, d - 20), d + 40))}`);
      }
      const value = oracleCookie(view.header, NAME);
      const expected = value === undefined ? null : (users.get(value) ?? null);
      if (view.identity !== expected) fail(c, a, `idgate says ${view.identity}, the oracle ${expected} (value ${JSON.stringify(value)?.slice(0, 120)})`);
      if (view.identity !== null) authenticated++;
      const framework = typeof view.parsed === 'string' ? (users.get(view.parsed) ?? null) : null;
      if (framework !== view.identity) disagreements.push(`framework ${framework}, idgate ${view.identity}: ${JSON.stringify(view.header).slice(0, 160)}`);
      if ((view.parsed ?? undefined) !== value) valueDisagreements++;
    });
    const profileCalls = mock.calls().profile - profileBefore;
    console.info(
      `[cookie-boundary] ${name}: ${cases.length} headers in ${elapsed} ms; statuses ${JSON.stringify(Object.fromEntries(statuses))}; ` +
        `authenticated ${authenticated}; framework parser and idgate disagree on the session ${disagreements.length} times ` +
        `(on the raw value ${valueDisagreements}); upstream profile calls ${profileCalls}; failures ${failures.length}`,
    );
    if (disagreements.length) console.info(`[cookie-boundary] ${name} disagreements (first 3; idgate = oracle in each):\n${disagreements.slice(0, 3).join('\n')}`);
    if (failures.length) console.error(`[cookie-boundary] ${name} failures (first 20):\n${failures.slice(0, 20).join('\n')}`);
    expect(failures).toEqual([]);
    // The generator reaches every outcome: sessions read, sessions refused, and Node's own refusals.
    expect(authenticated).toBeGreaterThan(RUNS / 20);
    expect(statuses.get(200)).toBeGreaterThan(RUNS / 2);
    // Strangers cost nothing: near misses and garbage are refused before any I/O, S and S2 are cache hits.
    expect(profileCalls).toBeLessThanOrEqual(2);
  }, 120_000);
});
