#!/usr/bin/env node
// Development tool: `node bench/abn.mjs <framework> <base,variant,...> [cycles] [seconds] [procs]`.
// Like ab.mjs for several variants at once: every variant's server is loaded
// in turn, in short windows, the order rotating every cycle; each variant's
// server CPU per request (/proc/<pid>/schedstat) is compared with the base's
// in the same cycle. Repeated on `procs` sets of fresh processes (a process's
// own layout moves a figure by about 1 µs), pairs pooled; prints the median
// difference from the base per variant, overall and per process set.
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const [framework = 'koa', list = 'lru-nostore,idgate', cycles = '8', seconds = '1', procs = '3'] = process.argv.slice(2);
if (!process.env.IDGATE_BENCH_PINNED) {
  const r = spawnSync('taskset', ['-c', '1', process.execPath, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, IDGATE_BENCH_PINNED: '1' } });
  process.exit(r.status ?? 1);
}
const { startMockUpstream } = await import('@idgate/mock-upstream');
const { startServer, serverOf } = await import('./lib/proc.mjs');
const { loginMany, MOCK_API_KEY } = await import('./lib/upstream.mjs');
const { load } = await import('./lib/load.mjs');
const { request } = await import('./lib/http.mjs');
const { median } = await import('./lib/stats.mjs');

const variants = list.split(',');
const [base] = variants;
const ns = (pid) => Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);
const mock = await startMockUpstream({ quiet: true });
const [warmId] = await loginMany(mock, 1);
const config = { upstreamUrl: mock.url, apiKey: MOCK_API_KEY, secret: 'idgate-bench-secret-0123456789abcdef', warmId };
const cookie = `identityId=${warmId}`;
const diffs = Object.fromEntries(variants.map((v) => [v, []]));
const abs = Object.fromEntries(variants.map((v) => [v, []]));
const perProcess = Object.fromEntries(variants.map((v) => [v, []]));
const absProcess = Object.fromEntries(variants.map((v) => [v, []]));
for (let p = 0; p < Number(procs); p++) {
  const servers = {};
  for (const v of variants) {
    const server = await startServer(...serverOf(framework, v), { env: { BENCH_CONFIG: JSON.stringify(config) } });
    await request(`${server.url}/api/me`, { headers: { cookie } });
    await load({ url: `${server.url}/api/me`, cookies: cookie, duration: 2, label: `${v} warm-up` });
    servers[v] = server;
  }
  const here = Object.fromEntries(variants.map((v) => [v, []]));
  const mine = Object.fromEntries(variants.map((v) => [v, []]));
  for (let c = 0; c < Number(cycles); c++) {
    const order = variants.map((_, i) => variants[(i + c) % variants.length]);
    if (c % 2) order.reverse();
    const us = {};
    for (const v of order) {
      const server = servers[v];
      const t0 = ns(server.pid);
      const r = await load({ url: `${server.url}/api/me`, cookies: cookie, duration: Number(seconds), label: v });
      us[v] = (ns(server.pid) - t0) / 1e3 / r.responses;
    }
    for (const v of variants) {
      abs[v].push(us[v]);
      mine[v].push(us[v]);
      diffs[v].push(us[v] - us[base]);
      here[v].push(us[v] - us[base]);
    }
  }
  for (const v of variants) perProcess[v].push(median(here[v]));
  for (const v of variants) absProcess[v].push(median(mine[v]));
  for (const server of Object.values(servers)) await server.stop();
}
console.log(`${framework}, ${procs} process sets × ${cycles} cycles of ${seconds} s; µs of server CPU per request, difference from ${base}:`);
for (const v of variants) console.log(`  ${v.padEnd(16)} ${median(abs[v]).toFixed(2).padStart(7)} µs  Δ ${median(diffs[v]).toFixed(2).padStart(6)}  per process set: ${perProcess[v].map((x) => x.toFixed(2)).join(' ')}  (own: ${absProcess[v].map((x) => x.toFixed(1)).join(' ')})`);
await mock.close();
