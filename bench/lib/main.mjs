// The measurements, in the order of the issue. Runs pinned to the load core
// (run.mjs re-execs it under taskset); every server is a fresh child process
// pinned to the server core.
import { writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { join } from 'node:path';
import { startMockUpstream } from '@idgate/mock-upstream';
import { startServer, serverOf, runNode, BENCH_DIR, bounded, window } from './proc.mjs';
import { request, json, noPool, oneSocket } from './http.mjs';
import { load, CheckFailed } from './load.mjs';
import { median, percentile } from './stats.mjs';
import { loginMany, directProfile, MOCK_API_KEY, BENCH_SECRET, rawOf } from './upstream.mjs';
import { startRedis } from './redis.mjs';
import { environment, targets, writeReport } from './report.mjs';
import { QUIET_IDGATE, refreshEveryMs } from './refresh.mjs';

/** Every framework measured by default; `--frameworks=` limits a run to some of them. */
export const FRAMEWORKS = ['express', 'fastify', 'koa', 'hono', 'nestjs', 'nestjs-fastify'];
/** Section 2's cycling and section 5 (Redis) in the full run: the first three only, to bound the run's length. */
const CLASSIC = ['express', 'fastify', 'koa'];
/** Frameworks with no server-side session middleware to compare with: no variant (d). */
const SESSIONLESS = new Set(['hono']);
const VARIANTS = ['bare', 'lru', 'idgate', 'session'];
/** Section 1 in the full run: the references beside (a)–(d) (bench/README.md); `idgate-quiet` (c₀) on Express, Fastify and Koa only. */
const HIT_VARIANTS = [...VARIANTS, 'idgate-quiet', 'lru-nostore', 'lru-nostore-seeded', 'lru-nostore-refresh', 'session-lean'];
const ROUTE = '/api/me';
const STATS = '/__bench/stats';
const LOGIN = '/__bench/login';
const EXPECTED = JSON.stringify({ id: 'c_demo', email: 'demo@example.com' });
const SECRET = BENCH_SECRET;
const CONNECTIONS = 50;
/** Share of a core other processes may take during a measured window before it is measured again. */
const CONTENTION = 0.1;
const ATTEMPTS = 3;

/**
 * One round of measurements, interleaved: the prepared, warm servers are
 * loaded in turn, slice by slice (A B C D, then B C D A, …), so a change in
 * the machine's speed during the round lands on every variant alike. A slice
 * during which other processes took more than CONTENTION of either core is
 * measured again (up to `P.attempts`; the least disturbed attempt is kept).
 * Per server: totals over its slices.
 */
async function interleaved(subjects, P, loadSidePids = []) {
  const acc = subjects.map(() => ({ responses: 0, wall: 0, user: 0, sys: 0, latencies: [], contention: 0, retries: 0 }));
  for (let k = 0; k < P.slices; k++) {
    for (const i of rotate(subjects.map((_, j) => j), k)) {
      const subject = subjects[i];
      let kept;
      for (let attempt = 1; attempt <= P.attempts; attempt++) {
        const stop = window(subject.server.pid, loadSidePids);
        const r = await load({ ...subject.load, duration: P.slice });
        const w = stop();
        const contention = Math.max(w.foreignServerCore, w.foreignLoadCore);
        if (!kept || contention < kept.contention) kept = { r, w, contention };
        if (contention <= CONTENTION || attempt === P.attempts) break;
        acc[i].retries++;
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      const a = acc[i];
      a.responses += kept.r.responses;
      a.wall += kept.w.wall;
      a.user += kept.w.user;
      a.sys += kept.w.sys;
      a.latencies.push(kept.r.latencies);
      a.contention = Math.max(a.contention, kept.contention);
    }
  }
  return acc.map((a) => {
    const all = new Float64Array(a.latencies.reduce((n, l) => n + l.length, 0));
    let at = 0;
    for (const l of a.latencies) {
      all.set(l, at);
      at += l.length;
    }
    all.sort();
    return {
      rps: a.responses / (a.wall / 1e6),
      p50: percentile(all, 50, true),
      p99: percentile(all, 99, true),
      responses: a.responses,
      userUs: a.user / a.responses,
      sysUs: a.sys / a.responses,
      busy: (a.user + a.sys) / a.wall,
      contention: a.contention,
      retries: a.retries,
    };
  });
}

function plan(quick) {
  return quick
    ? { rounds: 3, warm: 0.5, slices: 2, slice: 0.25, attempts: 1, variants: VARIANTS, burstRounds: 1, cyclePasses: 1.2, cycleFrameworks: ['fastify'], refreshWindowMs: 1000, refreshMs: 3000, coldRounds: 1, coldSamples: 25, memRounds: 1, redisRounds: 3, redisFrameworks: ['fastify'], redisIdentities: 500 }
    : { rounds: 9, warm: 2, slices: 5, slice: 1, attempts: ATTEMPTS, variants: HIT_VARIANTS, burstRounds: 3, cyclePasses: 3, cycleFrameworks: CLASSIC, refreshWindowMs: 2000, refreshMs: 10_000, coldRounds: 3, coldSamples: 100, memRounds: 3, redisRounds: 3, redisFrameworks: CLASSIC, redisIdentities: 1000 };
}

function check(condition, message) {
  if (!condition) throw new CheckFailed(message);
}

const rotate = (list, by) => list.map((_, i) => list[(i + by) % list.length]);
const log = (...parts) => console.log(`[${new Date().toISOString().slice(11, 19)}]`, ...parts);
/** The Cookie header a browser would send back for these Set-Cookie headers (koa-session sets a value and its signature). */
const cookieOf = (setCookie) => (Array.isArray(setCookie) ? setCookie : [String(setCookie ?? '')]).map((c) => c.split(';')[0]).join('; ');
const randomId = () => randomBytes(24).toString('base64').replace(/[^A-Za-z0-9]/g, '').padEnd(32, 'Q').slice(0, 32);

export async function main({ quick, args, started }) {
  const P = plan(quick);
  // Development filters (the result files are then marked partial): --frameworks=fastify,koa --variants=lru,idgate --rounds=3 --slices=3 --slice=1
  const opt = (name) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  if (opt('rounds')) P.rounds = Number(opt('rounds'));
  if (opt('slices')) P.slices = Number(opt('slices'));
  if (opt('slice')) P.slice = Number(opt('slice'));
  if (opt('warm')) P.warm = Number(opt('warm'));
  P.frameworks = opt('frameworks')?.split(',') ?? FRAMEWORKS;
  const unknown = P.frameworks.filter((f) => !FRAMEWORKS.includes(f));
  if (unknown.length) {
    console.error(`idgate bench: --frameworks: unknown ${unknown.join(', ')} (one of ${FRAMEWORKS.join(', ')})`);
    process.exitCode = 2;
    return;
  }
  // The sections with a fixed subset (cycling, Redis) keep only the frameworks asked for.
  P.cycleFrameworks = P.cycleFrameworks.filter((f) => P.frameworks.includes(f));
  P.redisFrameworks = P.redisFrameworks.filter((f) => P.frameworks.includes(f));
  if (opt('variants')) P.variants = opt('variants').split(',');
  const only = opt('sections')?.split(',').map(Number);
  const wants = (n) => !only || only.includes(n);
  const results = { quick, plan: P, environment: await environment(), sections: {} };
  const mock = await startMockUpstream({ quiet: true });
  log(`mock upstream on ${mock.url}; ${quick ? 'quick' : 'full'} run`);
  const base = { upstreamUrl: mock.url, apiKey: MOCK_API_KEY, secret: SECRET };
  try {
    const [warmId] = await loginMany(mock, 1);
    const ctx = { P, mock, base, pool: [], warmId };
    if (wants(1)) results.sections.hit = await sectionHit(ctx);
    // The pool sections 2–5 use is made after section 1, which takes over half an hour
    // at 9 rounds: the mock ends a session left idle for 30 minutes (sessionIdleMs).
    if ([2, 3, 4, 5].some(wants)) {
      const t = Date.now();
      ctx.pool = await loginMany(mock, 10_000);
      log(`10,000 live identities at the mock in ${Date.now() - t} ms`);
    }
    if (wants(2)) results.sections.economy = await sectionEconomy(ctx);
    if (wants(3)) results.sections.cold = await sectionCold(ctx);
    if (wants(4)) results.sections.memory = await sectionMemory(ctx);
    if (wants(5)) results.sections.redis = await sectionRedis(ctx);
  } catch (err) {
    console.error(`\nidgate bench FAILED: ${err instanceof CheckFailed ? 'check broken: ' : ''}${err.message}`);
    console.error('No results were written.');
    process.exitCode = 1;
    return;
  } finally {
    await mock.close();
  }
  results.elapsedSeconds = (Date.now() - started) / 1000;
  results.command = `pnpm bench${quick ? ' --quick' : ''}${args.filter((a) => a !== '--quick').map((a) => ` ${a}`).join('')}`;
  results.targets = targets(results);
  const partial = Boolean(only) || args.some((a) => /^--(frameworks|variants|rounds|slices|slice|warm)=/.test(a));
  const stem = quick || partial ? `results${quick ? '.quick' : ''}${partial ? '.partial' : ''}` : 'results';
  writeFileSync(join(BENCH_DIR, `${stem}.json`), `${JSON.stringify(results, null, 2)}\n`);
  writeReport(results, join(BENCH_DIR, stem === 'results' ? 'RESULTS.md' : `RESULTS${stem.slice(7).toUpperCase().replace(/\./g, '-')}.md`));
  log(`done in ${results.elapsedSeconds.toFixed(0)} s; wrote bench/${stem}.json`);
}

// ---------------------------------------------------------------- section 1

async function sectionHit({ P, mock, base, warmId }) {
  const runs = [];
  const refreshes = [];
  for (let round = 0; round < P.rounds; round++) {
    for (const framework of rotate(P.frameworks, round)) {
      const subjects = [];
      try {
        // Fresh servers for this round, each checked and warmed, then measured interleaved.
        const variants = P.variants.filter((v) => (v !== 'session-lean' || framework === 'fastify') && (v !== 'idgate-quiet' || CLASSIC.includes(framework)) && !(v === 'session' && SESSIONLESS.has(framework)));
        for (const variant of rotate(variants, round)) subjects.push(await prepareHit({ P, base, warmId, framework, variant }));
        const callsBefore = mock.calls().profile;
        const measured = await interleaved(subjects, P);
        // The one identity is re-verified in the background every refreshAtMs (refresh-ahead,
        // 30 s by default): those calls are allowed, nothing more.
        let allowed = 0;
        for (const [i, subject] of subjects.entries()) {
          const stats = await afterHit(subject);
          if (subject.verifiedAt) allowed += Math.floor((Date.now() - subject.verifiedAt) / stats.refreshAtMs);
          // The re-fetching floor's timer, from before its server started: one call per tick at most.
          if (subject.refreshFrom) allowed += Math.floor((Date.now() - subject.refreshFrom) / refreshEveryMs(base.idgate));
          const r = measured[i];
          runs.push({ round, framework, variant: subject.variant, ...r });
          log(`hit r${round + 1} ${framework.padEnd(14)} ${subject.variant.padEnd(11)} ${Math.round(r.rps).toString().padStart(6)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  cpu ${r.userUs.toFixed(1)}+${r.sysUs.toFixed(1)} µs/req  busy ${(r.busy * 100).toFixed(0)}%  others ${(r.contention * 100).toFixed(0)}%${r.retries ? ` (${r.retries} slices measured again)` : ''}`);
        }
        const calls = mock.calls().profile - callsBefore;
        check(calls <= allowed, `${framework}: ${calls} upstream calls during cache-hit loads (refresh-ahead allows ${allowed})`);
        refreshes.push({ round, framework, calls, allowed });
      } finally {
        for (const subject of subjects) await subject.server.stop();
      }
    }
  }
  return { runs, refreshes, summary: summarizeHit(runs, P.rounds, P.frameworks) };
}

/** Start one variant's server, run the checks, establish the session or warm the identity, warm up. */
async function prepareHit({ P, base, warmId, framework, variant }) {
  const label = `${framework}/${variant}`;
  const refreshFrom = variant.endsWith('-refresh') ? Date.now() : undefined;
  const quiet = variant === 'idgate-quiet';
  const config = { ...base, warmId, ...(quiet ? { idgate: QUIET_IDGATE } : {}) };
  const server = await startServer(...serverOf(framework, quiet ? 'idgate' : variant), { env: { BENCH_CONFIG: JSON.stringify(config) } });
  try {
    const url = server.url + ROUTE;
    let cookie = `identityId=${warmId}`;
    let wrong = `identityId=${randomId()}`;
    if (variant.startsWith('session')) {
      const login = await request(server.url + LOGIN, { method: 'POST' });
      check(login.status === 200 && login.headers['set-cookie'], `${label}: the session login answered ${login.status} without a cookie`);
      cookie = cookieOf(login.headers['set-cookie']);
      wrong = `${cookie.slice(0, cookie.indexOf('=') + 1)}forged${randomId()}`;
    }
    if (variant !== 'bare') {
      const anon = await request(url);
      check(anon.status === 401, `${label}: a request without a cookie was answered ${anon.status}, not rejected`);
      const forged = await request(url, { headers: { cookie: wrong } });
      check(forged.status === 401, `${label}: a request with an unknown cookie was answered ${forged.status}, not rejected`);
    }
    const verifiedAt = variant.startsWith('idgate') ? Date.now() : undefined;
    const first = await request(url, { headers: { cookie } });
    check(first.status === 200 && first.body === EXPECTED, `${label}: the signed-in request answered ${first.status} ${first.body}`);
    const options = { url, cookies: cookie, connections: CONNECTIONS, expectBody: EXPECTED, label };
    await load({ ...options, duration: P.warm, label: `${label} warm-up` });
    return { variant, server, load: options, label, verifiedAt, refreshFrom };
  } catch (err) {
    await server.stop();
    throw err;
  }
}

/** After the loads: exactly the one session or identity, none created per request. */
async function afterHit({ variant, server, label }) {
  const stats = json(await request(server.url + STATS));
  if (variant.startsWith('session')) check(stats.sessions === 1, `${label}: ${stats.sessions} sessions in the store after the load (expected the one established)`);
  if (variant.startsWith('idgate') || variant.startsWith('lru')) check(stats.identities === 1, `${label}: ${stats.identities} identities cached after the load (expected 1)`);
  return stats;
}

function summarizeHit(runs, rounds, frameworks) {
  const out = {};
  for (const framework of frameworks) {
    const of = (variant, round) => runs.find((r) => r.framework === framework && r.variant === variant && r.round === round);
    const per = {};
    for (const variant of HIT_VARIANTS) {
      const rs = runs.filter((r) => r.framework === framework && r.variant === variant);
      if (rs.length === 0) continue;
      per[variant] = {
        rps: median(rs.map((r) => r.rps)),
        p50: median(rs.map((r) => r.p50)),
        p99: median(rs.map((r) => r.p99)),
        userUs: median(rs.map((r) => r.userUs)),
        sysUs: median(rs.map((r) => r.sysUs)),
        busy: median(rs.map((r) => r.busy)),
        rpsMin: Math.min(...rs.map((r) => r.rps)),
        rpsMax: Math.max(...rs.map((r) => r.rps)),
      };
    }
    // Ratios and CPU differences are taken within a round, then the median over rounds.
    const within = (fn) => median(Array.from({ length: rounds }, (_, i) => fn(i)));
    const ratio = (x, y) => within((i) => of(x, i)?.rps / of(y, i)?.rps);
    const extra = (x, y, field) => within((i) => of(x, i)?.[field] - of(y, i)?.[field]);
    out[framework] = {
      variants: per,
      ratios: { c_a: ratio('idgate', 'bare'), c_b: ratio('idgate', 'lru'), d_a: ratio('session', 'bare'), b_a: ratio('lru', 'bare'), c_d: ratio('idgate', 'session'), c_bh: ratio('idgate', 'lru-nostore'), c_bs: ratio('idgate', 'lru-nostore-seeded'), c_br: ratio('idgate', 'lru-nostore-refresh'), c0_bh: ratio('idgate-quiet', 'lru-nostore'), c0_c: ratio('idgate-quiet', 'idgate'), br_bh: ratio('lru-nostore-refresh', 'lru-nostore'), bs_bh: ratio('lru-nostore-seeded', 'lru-nostore'), c_dl: ratio('idgate', 'session-lean') },
      addedUserUs: { b: extra('lru', 'bare', 'userUs'), c: extra('idgate', 'bare', 'userUs'), d: extra('session', 'bare', 'userUs'), bh: extra('lru-nostore', 'bare', 'userUs'), bs: extra('lru-nostore-seeded', 'bare', 'userUs'), br: extra('lru-nostore-refresh', 'bare', 'userUs'), c0: extra('idgate-quiet', 'bare', 'userUs') },
      addedSysUs: { b: extra('lru', 'bare', 'sysUs'), c: extra('idgate', 'bare', 'sysUs'), d: extra('session', 'bare', 'sysUs'), bh: extra('lru-nostore', 'bare', 'sysUs'), bs: extra('lru-nostore-seeded', 'bare', 'sysUs'), br: extra('lru-nostore-refresh', 'bare', 'sysUs') },
      contention: Math.max(...runs.filter((r) => r.framework === framework).map((r) => r.contention)),
      p99Ratio: { c_a: within((i) => of('idgate', i)?.p99 / of('bare', i)?.p99), c_b: within((i) => of('idgate', i)?.p99 / of('lru', i)?.p99) },
    };
  }
  return out;
}

// ---------------------------------------------------------------- section 2

async function sectionEconomy({ P, mock, base, pool }) {
  // Bursts: N concurrent cold requests for one identity; the upstream answers
  // after 100 ms, so the whole burst arrives while the first verification is
  // in flight.
  const bursts = [];
  let next = 0;
  for (let round = 0; round < P.burstRounds; round++) {
    for (const framework of rotate(P.frameworks, round)) {
      for (const n of [10, 100, 1000]) {
        const server = await startServer(...serverOf(framework, 'idgate'), { env: { BENCH_CONFIG: JSON.stringify(base) } });
        try {
          const id = pool[next++];
          mock.fault({ route: 'profile', latencyMs: 100 });
          const before = mock.calls().profile;
          const t0 = process.hrtime.bigint();
          const responses = await bounded(`burst ${framework} N=${n}`, 60_000, () =>
            Promise.all(Array.from({ length: n }, () => request(server.url + ROUTE, { agent: noPool, headers: { cookie: `identityId=${id}` }, timeoutMs: 30_000 }))),
          );
          const ms = Number(process.hrtime.bigint() - t0) / 1e6;
          const calls = mock.calls().profile - before;
          mock.clearFaults();
          const bad = responses.filter((r) => r.status !== 200 || r.body !== EXPECTED);
          check(bad.length === 0, `burst ${framework} N=${n}: ${bad.length} responses were not 200 with the expected body (first: ${bad[0]?.status} ${bad[0]?.body})`);
          const stats = json(await request(server.url + STATS));
          check(stats.identities === 1, `burst ${framework} N=${n}: ${stats.identities} identities cached (expected 1)`);
          bursts.push({ round, framework, n, calls, ms });
          log(`burst r${round + 1} ${framework.padEnd(14)} N=${String(n).padEnd(4)} upstream calls ${calls}  (${ms.toFixed(0)} ms)`);
        } finally {
          mock.clearFaults();
          await server.stop();
        }
      }
    }
  }

  // 10,000 distinct identities cycling through the default cache (max 10,000).
  const cycling = [];
  const cookies = pool.map((id) => `identityId=${id}`);
  for (const framework of P.cycleFrameworks) {
    const server = await startServer(...serverOf(framework, 'idgate'), { env: { BENCH_CONFIG: JSON.stringify(base) } });
    try {
      const before = mock.calls().profile;
      const amount = Math.round(P.cyclePasses * pool.length);
      const r = await load({ url: server.url + ROUTE, cookies, amount, connections: CONNECTIONS, expectBody: EXPECTED, label: `cycling ${framework}` });
      const calls = mock.calls().profile - before;
      const stats = json(await request(server.url + STATS));
      const steady = r.responses > pool.length ? 1 - Math.max(0, calls - pool.length) / (r.responses - pool.length) : NaN;
      cycling.push({ framework, identities: pool.length, requests: r.responses, upstreamCalls: calls, hitRatio: 1 - calls / r.responses, steadyHitRatio: steady, cached: stats.identities, rps: r.rps });
      log(`cycling ${framework}: ${r.responses} requests over ${pool.length} identities, ${calls} upstream calls, hit ratio ${(100 * (1 - calls / r.responses)).toFixed(2)}%, steady ${(100 * steady).toFixed(2)}%`);
    } finally {
      await server.stop();
    }
  }

  // Refresh-ahead: active users against an upstream whose sessions expire
  // after `window` ms of inactivity; idgate is told the same window.
  const windowMs = P.refreshWindowMs;
  const idleMock = await startMockUpstream({ quiet: true, sessionIdleMs: windowMs });
  let refresh;
  try {
    const users = await loginMany(idleMock, 100);
    const server = await startServer('servers/express.mjs', ['idgate'], {
      env: { BENCH_CONFIG: JSON.stringify({ ...base, upstreamUrl: idleMock.url, idgate: { cache: { upstreamIdle: windowMs } } }) },
    });
    try {
      const before = idleMock.calls().profile;
      // Sample the upstream's sessions while the load runs (expiry is sticky at the mock, so a
      // sample after the load would count sessions that merely went idle once the load stopped).
      const live = new Set(users.map(rawOf));
      const expiredSeen = new Set();
      const sampler = setInterval(() => {
        for (const s of idleMock.sessions()) if (s.expired && live.has(s.identityId)) expiredSeen.add(s.identityId);
      }, 100);
      const r = await load({
        url: server.url + ROUTE,
        cookies: users.map((id) => `identityId=${id}`),
        duration: P.refreshMs / 1000,
        // Unthrottled: autocannon's rate limit sends each second's quota in a burst at the
        // start of the second, which would leave every user idle for most of a short window.
        connections: 10,
        expectBody: EXPECTED,
        label: 'refresh-ahead',
      }).finally(() => clearInterval(sampler));
      const calls = idleMock.calls().profile - before;
      const windows = (r.seconds * 1000) / windowMs;
      const expired = expiredSeen.size;
      check(expired === 0, `refresh-ahead: ${expired} active sessions expired upstream during the load`);
      refresh = {
        windowMs,
        users: users.length,
        seconds: r.seconds,
        requests: r.responses,
        upstreamCalls: calls,
        callsPerUserPerWindow: (calls - users.length) / users.length / windows,
        firstVerifications: users.length,
        expiredUpstream: expired,
      };
      log(`refresh-ahead: ${calls} upstream calls for ${users.length} users over ${windows.toFixed(1)} windows: ${refresh.callsPerUserPerWindow.toFixed(2)} per user per window (after the first verification)`);
    } finally {
      await server.stop();
    }
  } finally {
    await idleMock.close();
  }
  return { bursts, burstSummary: summarizeBursts(bursts), cycling, refresh };
}

function summarizeBursts(bursts) {
  const out = {};
  for (const n of [10, 100, 1000]) {
    const rs = bursts.filter((b) => b.n === n);
    out[n] = { maxCalls: Math.max(...rs.map((b) => b.calls)), medianCalls: median(rs.map((b) => b.calls)), bursts: rs.length, medianMs: median(rs.map((b) => b.ms)) };
  }
  return out;
}

// ---------------------------------------------------------------- section 3

async function sectionCold({ P, mock, base, pool }) {
  const DELAY = 20;
  const samples = [];
  let next = pool.length - 1; // from the end: section 2's bursts take from the start
  for (let round = 0; round < P.coldRounds; round++) {
    for (const framework of rotate(P.frameworks, round)) {
      // Two servers on the server core: idgate, and the baseline that calls the
      // upstream itself on every request (no cache, no library).
      const env = { BENCH_CONFIG: JSON.stringify(base) };
      const servers = [];
      const upstreamSocket = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const baselineSocket = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        servers.push(await startServer(...serverOf(framework, 'idgate'), { env }));
        servers.push(await startServer(...serverOf(framework, 'fetch'), { env }));
        const [gateServer, baseline] = servers;
        // Warm both servers' code paths and every kept-alive connection first.
        for (let i = 0; i < 5; i++) {
          const id = pool[next--];
          await request(gateServer.url + ROUTE, { headers: { cookie: `identityId=${id}` } });
          await request(baseline.url + ROUTE, { agent: baselineSocket, headers: { cookie: `identityId=${id}` } });
          await directProfile(mock, id, upstreamSocket);
        }
        mock.fault({ route: 'profile', latencyMs: DELAY });
        for (let i = 0; i < P.coldSamples; i++) {
          const id = pool[next--];
          // In turn (the order rotating): the upstream alone, the baseline, and a
          // cold request through idgate; then a hit on the same identity.
          const measures = {
            direct: async () => {
              const r = await directProfile(mock, id, upstreamSocket);
              check(r.status === 200, `cold ${framework}: direct profile call answered ${r.status}`);
              return r.ms;
            },
            baseline: async () => {
              const r = await request(baseline.url + ROUTE, { agent: baselineSocket, headers: { cookie: `identityId=${id}` } });
              check(r.status === 200 && r.body === EXPECTED, `cold ${framework}: the baseline answered ${r.status} ${r.body}`);
              return r.ms;
            },
            cold: async () => {
              const r = await request(gateServer.url + ROUTE, { agent: oneSocket, headers: { cookie: `identityId=${id}` } });
              check(r.status === 200 && r.body === EXPECTED, `cold ${framework}: cold request answered ${r.status} ${r.body}`);
              return r.ms;
            },
          };
          const sample = { round, framework };
          for (const name of rotate(Object.keys(measures), i)) sample[name] = await measures[name]();
          const hit = await request(gateServer.url + ROUTE, { agent: oneSocket, headers: { cookie: `identityId=${id}` } });
          check(hit.status === 200 && hit.body === EXPECTED, `cold ${framework}: hit answered ${hit.status} ${hit.body}`);
          sample.hit = hit.ms;
          samples.push(sample);
        }
      } finally {
        mock.clearFaults();
        upstreamSocket.destroy();
        baselineSocket.destroy();
        for (const server of servers) await server.stop();
      }
      const mine = samples.filter((x) => x.round === round && x.framework === framework);
      const p50 = (field) => percentile(mine.map((x) => x[field]), 50).toFixed(2);
      log(`cold r${round + 1} ${framework.padEnd(14)} p50: idgate cold ${p50('cold')} ms, baseline ${p50('baseline')} ms, upstream alone ${p50('direct')} ms, hit ${p50('hit')} ms`);
    }
  }
  const summary = {};
  for (const framework of P.frameworks) {
    const s = samples.filter((x) => x.framework === framework);
    const both = (values) => ({ p50: percentile(values, 50), p99: percentile(values, 99) });
    summary[framework] = {
      samples: s.length,
      cold: both(s.map((x) => x.cold)),
      baseline: both(s.map((x) => x.baseline)),
      direct: both(s.map((x) => x.direct)),
      hit: both(s.map((x) => x.hit)),
      // What idgate adds to a cold request: paired per sample, over the baseline server
      // that makes the same upstream call by hand from the same core.
      overBaseline: both(s.map((x) => x.cold - x.baseline)),
      // The cold request over the upstream's own 20 ms (two loopback hops and both servers' work included).
      overDelay: both(s.map((x) => x.cold - DELAY)),
      overDirect: both(s.map((x) => x.cold - x.direct)),
    };
  }
  return { delayMs: DELAY, samples, summary };
}

// ---------------------------------------------------------------- section 4

async function sectionMemory({ P }) {
  const runs = [];
  for (let round = 0; round < P.memRounds; round++) {
    for (const n of [10_000, 100_000]) {
      const r = await runNode('memory.mjs', [String(n)], { nodeFlags: ['--expose-gc'], timeoutMs: 180_000 });
      runs.push({ round, ...r });
      log(`memory r${round + 1} ${n} identities: ${r.heapBytesPerIdentity.toFixed(0)} heap bytes per identity (+${r.externalBytesPerIdentity.toFixed(0)} external)`);
    }
  }
  const summary = {};
  for (const n of [10_000, 100_000]) {
    const rs = runs.filter((r) => r.n === n);
    summary[n] = { heapBytesPerIdentity: median(rs.map((r) => r.heapBytesPerIdentity)), externalBytesPerIdentity: median(rs.map((r) => r.externalBytesPerIdentity)), runs: rs.length };
  }
  return { runs, summary };
}

// ---------------------------------------------------------------- section 5

async function sectionRedis({ P, mock, base, pool }) {
  const redis = await startRedis();
  const runs = [];
  const K = P.redisIdentities;
  const ids = pool.slice(2000, 2000 + K);
  const cookies = ids.map((id) => `identityId=${id}`);
  try {
    let serial = 0;
    for (let round = 0; round < P.redisRounds; round++) {
      for (const framework of rotate(P.redisFrameworks, round)) {
        const subjects = [];
        try {
          // memory: no store. redis: every request served from Redis (in-process cache of one entry).
          // near: the default deployment with a store: the in-process cache in front of Redis (a near-cache,
          // kept exact by the store's invalidation messages), so a warm hit never leaves the process.
          for (const variant of rotate(['memory', 'redis', 'near'], round)) {
            const label = `redis ${framework}/${variant}`;
            const prefix = `bench${serial++}:`;
            const config =
              variant === 'memory' ? { ...base } : { ...base, redisUrl: redis.url, redisPrefix: prefix, ...(variant === 'redis' ? { idgate: { cache: { max: 1 } } } : {}) };
            const server = await startServer(...serverOf(framework, variant === 'memory' ? 'idgate' : 'redis'), { env: { BENCH_CONFIG: JSON.stringify(config) } });
            subjects.push({ variant, server, label, load: { url: server.url + ROUTE, cookies, connections: CONNECTIONS, expectBody: EXPECTED, label }, warmedAt: Date.now() });
            const url = server.url + ROUTE;
            const anon = await request(url);
            check(anon.status === 401, `${label}: a request without a cookie was answered ${anon.status}`);
            // Warm: every identity verified once (and, for Redis, written there).
            await load({ url, cookies, amount: K, connections: 20, expectBody: EXPECTED, label: `${label} warm` });
            if (variant !== 'memory') {
              await bounded(`${label}: ${K} entries in Redis`, 10_000, async () => {
                while ((await redis.count(`${prefix}s:*`)) < K) await new Promise((r) => setTimeout(r, 50));
              });
            }
            await load({ url, cookies, duration: P.warm, connections: CONNECTIONS, expectBody: EXPECTED, label: `${label} warm-up` });
          }
          const before = mock.calls().profile;
          const lookups0 = await Promise.all(subjects.map(async (s) => json(await request(s.server.url + STATS)).storeLookups ?? 0));
          const measured = await interleaved(subjects, P, [redis.pid]);
          const calls = mock.calls().profile - before;
          const statsOf = await Promise.all(subjects.map(async (subject) => json(await request(subject.server.url + STATS))));
          // Only refresh-ahead's background re-verifications (K identities every refreshAtMs) may reach the upstream.
          const allowed = subjects.reduce((n, subject, i) => n + K * Math.floor((Date.now() - subject.warmedAt) / statsOf[i].refreshAtMs), 0);
          check(calls <= allowed, `redis ${framework}: ${calls} upstream calls during the loads (every hit must come from memory or Redis; refresh-ahead allows ${allowed})`);
          for (const [i, subject] of subjects.entries()) {
            const stats = statsOf[i];
            if (subject.variant !== 'redis') check(stats.identities === K, `${subject.label}: ${stats.identities} identities in memory (expected ${K})`);
            const lookups = (stats.storeLookups ?? 0) - lookups0[i];
            const m = measured[i];
            const run = { round, framework, variant: subject.variant, ...m, redisLookupsPerResponse: subject.variant === 'memory' ? 0 : lookups / m.responses };
            if (subject.variant === 'redis') check(run.redisLookupsPerResponse >= 0.95, `${subject.label}: only ${run.redisLookupsPerResponse.toFixed(2)} Redis lookups per response: hits were served from memory`);
            // Refresh-ahead's background re-verifications consult the store too: a few per window, never one per request.
            if (subject.variant === 'near') check(run.redisLookupsPerResponse <= 0.05, `${subject.label}: ${run.redisLookupsPerResponse.toFixed(2)} Redis lookups per response: warm hits left the process`);
            runs.push(run);
            log(`${subject.label.padEnd(22)} r${round + 1} ${Math.round(m.rps).toString().padStart(6)} req/s  p50 ${m.p50.toFixed(2)} ms  p99 ${m.p99.toFixed(2)} ms  cpu ${m.userUs.toFixed(1)}+${m.sysUs.toFixed(1)} µs/req  others ${(m.contention * 100).toFixed(0)}%${subject.variant === 'redis' ? `  redis lookups/response ${run.redisLookupsPerResponse.toFixed(2)}` : ''}`);
          }
        } finally {
          for (const subject of subjects) await subject.server.stop();
        }
      }
    }
  } finally {
    await redis.stop();
  }
  const summary = {};
  for (const framework of P.redisFrameworks) {
    const of = (variant, round) => runs.find((r) => r.framework === framework && r.variant === variant && r.round === round);
    const m = (variant, field) => median(runs.filter((r) => r.framework === framework && r.variant === variant).map((r) => r[field]));
    const within = (fn) => median(Array.from({ length: P.redisRounds }, (_, i) => fn(i)));
    summary[framework] = {
      memory: { rps: m('memory', 'rps'), p50: m('memory', 'p50'), p99: m('memory', 'p99'), userUs: m('memory', 'userUs'), sysUs: m('memory', 'sysUs') },
      redis: { rps: m('redis', 'rps'), p50: m('redis', 'p50'), p99: m('redis', 'p99'), userUs: m('redis', 'userUs'), sysUs: m('redis', 'sysUs'), lookupsPerResponse: m('redis', 'redisLookupsPerResponse') },
      near: { rps: m('near', 'rps'), p50: m('near', 'p50'), p99: m('near', 'p99'), userUs: m('near', 'userUs'), sysUs: m('near', 'sysUs'), lookupsPerResponse: m('near', 'redisLookupsPerResponse') },
      rpsRatio: within((i) => of('redis', i).rps / of('memory', i).rps),
      p99Ratio: within((i) => of('redis', i).p99 / of('memory', i).p99),
      nearRpsRatio: within((i) => of('near', i).rps / of('memory', i).rps),
      nearP99Ratio: within((i) => of('near', i).p99 / of('memory', i).p99),
    };
  }
  return { identities: K, runs, summary, redisVersion: redis.version };
}
