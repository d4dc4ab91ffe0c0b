#!/usr/bin/env node
// `npm run bench:fleet` (or `node bench/fleet.mjs`): does a fleet cost the
// upstream what one instance costs? 1, 2, 4 and 8 Express instances (separate
// processes) share one redis-server; the mock upstream (in this process)
// counts profile calls; a fixed population of users hits random instances.
// Each fleet size runs twice: with cross-instance leases (the default) and
// without (`cache.lease.wait: 0`, the behaviour before issue 17).
//
// Per run: (1) cold start of the whole fleet after a deploy: every user on
// every instance at once, N × M requests; (2) steady load for STEADY_MS with
// the cache window (`cache.ttl`) at WINDOW_MS: upstream calls per user per
// window, and the client-side p50/p99 of every request. Bounded: about 2
// minutes on 2 cores. Prints a Markdown table; `--write` also writes it to
// bench/FLEET.md and puts it in bench/RESULTS.md (section "Fleet", replacing
// an older one; `pnpm bench` carries FLEET.md into the RESULTS.md it writes).
//
// Not pinned (unlike `pnpm bench`): instances, Redis, the mock and this load
// generator share the machine's cores, as a fleet on one host would.
import { fork } from 'node:child_process';
import http from 'node:http';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const SIZES = process.env.FLEET_SIZES ? process.env.FLEET_SIZES.split(",").map(Number) : [1, 2, 4, 8];
const USERS = 200;
const WINDOW_MS = 4_000; // cache.ttl: an entry is re-verified (in the background) after half of it
const STEADY_MS = Number(process.env.FLEET_STEADY_MS ?? 8_000); // two windows
const CONCURRENCY = 32; // requests in flight during the steady load
const COLD_USERS = 8; // users in flight during the cold start, each on every instance at once
const SECRET = 'fleet-bench-secret-0123456789abcdef';
// The store's per-command deadline (default 100 ms): past it a command counts as failed and the instance asks the upstream.
// On 2 cores shared by up to 8 instances, Redis, the mock, this load generator and other tenants, 100 ms is often exceeded.
const STORE_TIMEOUT = Number(process.env.FLEET_STORE_TIMEOUT ?? 250);

if (process.env.FLEET_INSTANCE) await instance(JSON.parse(process.env.FLEET_INSTANCE));
else await main();

/** One app instance: Express + idgate + the shared Redis store. */
async function instance({ upstreamUrl, apiKey, redisUrl, lease }) {
  const { default: express } = await import('express');
  const { Redis } = await import('ioredis');
  const { createIdgate, identityMiddleware, requireIdentity } = await import('@idgate/express');
  const { redisStore } = await import('@idgate/redis');
  const client = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  await once(client, 'ready');
  const store = redisStore({ client, keyPrefix: 'fleet:', timeout: STORE_TIMEOUT });
  const counts = {};
  const onEvent = (e) => {
    if (e.type === 'store-error' || e.type === 'lease-wait-expired' || e.type === 'store-hit' || e.type === 'verified' || e.type === 'refreshed') counts[e.type] = (counts[e.type] ?? 0) + 1;
  };
  const gate = createIdgate({ upstreamUrl, apiKey, secret: SECRET, store, onEvent, cache: { ttl: WINDOW_MS, lease }, loginThrottle: false });
  const app = express();
  app.get('/__fleet/stats', (req, res) => res.json(counts));
  app.use(identityMiddleware(gate));
  app.get('/api/me', requireIdentity(), (req, res) => res.json({ id: req.identity.id }));
  const server = app.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  process.on('disconnect', () => process.exit(0));
}

async function main() {
  const { startMockUpstream, MOCK_API_KEY, DEMO_CUSTOMER } = await import('@idgate/mock-upstream');
  const { sessionKeys, signSession } = await import('@idgate/core/adapter');
  const { startRedis } = await import('./lib/redis.mjs');
  const { percentile } = await import('./lib/stats.mjs');
  const started = Date.now();
  const redis = await startRedis();
  const mock = await startMockUpstream({ port: 0 });
  const { Redis } = await import('ioredis');
  const admin = new Redis(redis.url);
  const keys = sessionKeys([SECRET]);
  const rows = [];
  try {
    for (const [label, lease] of [['leases', {}], ['no leases', { wait: 0 }]]) {
      for (const n of SIZES) {
        await admin.flushall();
        mock.reset();
        // A fixed population, signed in at the upstream (as after a deploy: sessions exist, no instance has seen them).
        const cookies = [];
        for (let i = 0; i < USERS; i++) {
          const res = await fetch(`${mock.url}/api/v1/customer/login`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${MOCK_API_KEY}` }, body: JSON.stringify(DEMO_CUSTOMER) });
          const { identityId } = await res.json();
          cookies.push(`identityId=${signSession(keys, identityId, Date.now())}`);
        }
        const base = mock.calls().profile ?? 0; // (reset would end the sessions too)
        const fleet = await Promise.all(Array.from({ length: n }, () => startInstance({ upstreamUrl: mock.url, apiKey: MOCK_API_KEY, redisUrl: redis.url, lease })));
        const agents = fleet.map(() => new http.Agent({ keepAlive: true, maxSockets: 64 }));
        try {
          // (1) Cold start: each user on every instance at once (N requests together), COLD_USERS users at a time.
          const t0 = Date.now();
          const cold = await pool(cookies, COLD_USERS, (cookie) => Promise.all(fleet.map((inst, i) => get(inst.port, agents[i], cookie))));
          const coldMs = Date.now() - t0;
          const coldFailed = cold.flat().filter((r) => r.status !== 200).length;
          const coldCalls = (mock.calls().profile ?? 0) - base;
          // (2) Steady: random user on a random instance, CONCURRENCY in flight, for STEADY_MS.
          await sleep(200);
          const before = mock.calls().profile ?? 0;
          const latencies = [];
          let failed = 0;
          const failures = {};
          const end = Date.now() + STEADY_MS;
          await Promise.all(
            Array.from({ length: CONCURRENCY }, async () => {
              while (Date.now() < end) {
                const i = Math.floor(Math.random() * n);
                const r = await get(fleet[i].port, agents[i], cookies[Math.floor(Math.random() * USERS)]);
                if (r.status !== 200) {
                  failed++;
                  failures[r.status] = (failures[r.status] ?? 0) + 1;
                }
                latencies.push(r.ms);
              }
            }),
          );
          const steadyCalls = (mock.calls().profile ?? 0) - before;
          const events = {};
          for (const inst of fleet) {
            const res = await fetch(`http://127.0.0.1:${inst.port}/__fleet/stats`);
            for (const [k, v] of Object.entries(await res.json())) events[k] = (events[k] ?? 0) + v;
          }
          latencies.sort((x, y) => x - y);
          const row = {
            variant: label,
            instances: n,
            users: USERS,
            coldRequests: n * USERS,
            coldCalls,
            coldMs,
            coldFailed,
            requests: latencies.length,
            failed,
            steadyCalls,
            perUserPerWindow: steadyCalls / USERS / (STEADY_MS / WINDOW_MS),
            p50: percentile(latencies, 50, true),
            p99: percentile(latencies, 99, true),
            events,
            failures,
          };
          rows.push(row);
          console.log(JSON.stringify(row));
        } finally {
          agents.forEach((a) => a.destroy());
          await Promise.all(fleet.map((f) => f.stop()));
        }
      }
    }
  } finally {
    admin.disconnect();
    await mock.close();
    await redis.stop();
  }
  const seconds = Math.round((Date.now() - started) / 1000);
  const md = report(rows, seconds, redis.version);
  console.log(md);
  if (process.argv.includes('--write')) {
    // bench/FLEET.md is what `pnpm bench` carries into RESULTS.md; the section is also put in place now.
    writeFileSync(fileURLToPath(new URL('./FLEET.md', import.meta.url)), md);
    const path = fileURLToPath(new URL('./RESULTS.md', import.meta.url));
    const text = readFileSync(path, 'utf8');
    const section = /\n## Fleet[^\n]*\n[\s\S]*?(?=\n## |$)/;
    const next = section.test(text) ? text.replace(section, `\n${md.trim()}\n`) : text.includes('\n## Targets') ? text.replace('\n## Targets', `\n${md.trim()}\n\n## Targets`) : `${text.trimEnd()}\n\n${md}`;
    writeFileSync(path, next);
    console.log('fleet: wrote bench/FLEET.md and the "Fleet" section of bench/RESULTS.md');
  }
}

function report(rows, seconds, redisVersion) {
  const f2 = (x) => x.toFixed(2);
  const ones = rows.filter((r) => r.instances === 1).map((r) => r.perUserPerWindow);
  const lines = [
    '## Fleet: upstream cost and latency from 1 to 8 instances',
    `Generated by \`npm run bench:fleet -- --write\` (\`node bench/fleet.mjs --write\`) on ${new Date().toISOString().slice(0, 10)}; ${seconds} s. Separate Express processes sharing one redis-server (${redisVersion}) and the in-process mock upstream, on the same 2 shared cores as the load generator (not pinned). ${USERS} users signed in at the upstream. Cold start: each user on every instance at once (N requests together, ${COLD_USERS} users at a time: N × ${USERS} requests), Redis empty. Steady: ${CONCURRENCY} requests in flight, each a random user on a random instance, for ${STEADY_MS / 1000} s with the cache window \`cache.ttl\` = ${WINDOW_MS / 1000} s (refresh-ahead re-verifies an active session after half of it); store timeout ${STORE_TIMEOUT} ms. "no leases" is \`cache.lease.wait: 0\`: each instance verifies on its own, as before issue 17.`,
    '',
    '| variant | instances | cold: requests | cold: upstream calls | cold: time | steady: requests | steady: upstream calls | calls per user per window | p50 | p99 | failed (status: count) | store errors | lease waits expired |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.variant} | ${r.instances} | ${r.coldRequests.toLocaleString('en-US')} | ${r.coldCalls} | ${r.coldMs} ms | ${r.requests.toLocaleString('en-US')} | ${r.steadyCalls} | ${f2(r.perUserPerWindow)} | ${f2(r.p50)} ms | ${f2(r.p99)} ms | ${r.failed + r.coldFailed}${r.failed ? ` (${Object.entries(r.failures).map(([k, v]) => `${k === '0' ? 'no answer' : k}: ${v}`).join(', ')})` : ''} | ${r.events['store-error'] ?? 0} | ${r.events['lease-wait-expired'] ?? 0} |`),
    '',
    `Reading it: "calls per user per window" is upstream profile calls in the steady phase ÷ ${USERS} users ÷ ${STEADY_MS / WINDOW_MS} windows; it depends on how often each user is hit (refresh-ahead fires on the first hit past half the window), so it moves with the request rate, which moves with the machine's load. The noise is the spread of the 1-instance figure, where leases change nothing: ${f2(Math.min(...ones))}–${f2(Math.max(...ones))} across this run's 1-instance rows (and, on a machine shared with other tenants, more between runs). Latency here is mostly the shared machine: p50 and p99 grow with the number of processes on 2 cores, with or without leases.`,
    '',
  ];
  return lines.join('\n');
}

/** Fork one instance; resolves with its port and a stop(). */
async function startInstance(cfg) {
  const child = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, NODE_ENV: 'production', FLEET_INSTANCE: JSON.stringify(cfg) }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const [msg] = await Promise.race([once(child, 'message'), sleep(20_000).then(() => Promise.reject(new Error('instance did not start in 20 s')))]);
  return {
    port: msg.port,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Run `fn` over `items` with at most `limit` in flight. */
async function pool(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    }),
  );
  return out;
}

function get(port, agent, cookie) {
  return new Promise((resolve) => {
    const t = process.hrtime.bigint();
    const req = http.request({ host: '127.0.0.1', port, path: '/api/me', agent, headers: { cookie } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, ms: Number(process.hrtime.bigint() - t) / 1e6 }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, ms: Number(process.hrtime.bigint() - t) / 1e6 }));
    req.end();
  });
}
