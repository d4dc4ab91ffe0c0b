#!/usr/bin/env node
// Development tool: `node bench/ab.mjs <framework> <variantA> <variantB> [pairs] [seconds]`.
// Two servers pinned to the server core, loaded alternately in short windows
// (A B B A A B …), server CPU per request from /proc/<pid>/schedstat
// (nanoseconds) for each window; reports the median of the paired
// differences. With `procs` > 1, the whole run is repeated on fresh server
// processes and the pairs pooled: a process's own layout moves a figure by
// about 1 µs (bench/PROFILE.md), so one process pair cannot settle less. Short alternating windows keep machine-wide noise (other
// processes, frequency) out of the difference. Used to check hot-path changes.
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const [framework = 'fastify', a = 'lru', b = 'idgate', pairs = '15', seconds = '1', procs = '1'] = process.argv.slice(2);
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

const ns = (pid) => Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);
const mock = await startMockUpstream({ quiet: true });
const [warmId] = await loginMany(mock, 1);
const config = { upstreamUrl: mock.url, apiKey: MOCK_API_KEY, secret: 'idgate-bench-secret-0123456789abcdef', warmId };
const all = { [a]: [], [b]: [] };
const perProcess = [];
for (let p = 0; p < Number(procs); p++) {
  const servers = {};
  for (const v of [a, b]) {
    const server = await startServer(...serverOf(framework, v), { env: { BENCH_CONFIG: JSON.stringify(config) } });
    let cookie = `identityId=${warmId}`;
    if (v === 'session') {
      const login = await request(`${server.url}/__bench/login`, { method: 'POST' });
      cookie = [].concat(login.headers['set-cookie']).map((c) => c.split(';')[0]).join('; ');
    }
    await request(`${server.url}/api/me`, { headers: { cookie } });
    await load({ url: `${server.url}/api/me`, cookies: cookie, duration: 2, label: `${v} warm-up` });
    servers[v] = { server, cookie, us: [] };
  }
  for (let i = 0; i < Number(pairs); i++) {
    for (const v of i % 2 ? [b, a] : [a, b]) {
      const { server, cookie, us } = servers[v];
      const t0 = ns(server.pid);
      const r = await load({ url: `${server.url}/api/me`, cookies: cookie, duration: Number(seconds), label: v });
      us.push((ns(server.pid) - t0) / 1e3 / r.responses);
    }
  }
  for (const v of [a, b]) all[v].push(...servers[v].us);
  perProcess.push(median(servers[b].us.map((x, i) => x - servers[a].us[i])));
  for (const { server } of Object.values(servers)) await server.stop();
}
const d = all[b].map((x, i) => x - all[a][i]);
console.log(`${framework}: ${a} ${median(all[a]).toFixed(2)} µs/req, ${b} ${median(all[b]).toFixed(2)} µs/req; ${b} − ${a}: median ${median(d).toFixed(2)} µs (pairs: ${d.map((x) => x.toFixed(1)).join(' ')}); per process pair: ${perProcess.map((x) => x.toFixed(2)).join(' ')}`);
await mock.close();
