#!/usr/bin/env node
// Development tool: `node bench/ab.mjs <framework> <variantA> <variantB> [pairs] [seconds]`.
// Two servers pinned to the server core, loaded alternately in short windows
// (A B B A A B …), server CPU per request from /proc/<pid>/schedstat
// (nanoseconds) for each window; reports the median of the paired
// differences. Short alternating windows keep machine-wide noise (other
// processes, frequency) out of the difference. Used to check hot-path changes.
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const [framework = 'fastify', a = 'lru', b = 'idgate', pairs = '15', seconds = '1'] = process.argv.slice(2);
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
const d = servers[b].us.map((x, i) => x - servers[a].us[i]);
console.log(`${framework}: ${a} ${median(servers[a].us).toFixed(2)} µs/req, ${b} ${median(servers[b].us).toFixed(2)} µs/req; ${b} − ${a}: median ${median(d).toFixed(2)} µs (pairs: ${d.map((x) => x.toFixed(1)).join(' ')})`);
for (const { server } of Object.values(servers)) await server.stop();
await mock.close();
