#!/usr/bin/env node
// `node bench/profile.mjs <framework> <variant> [seconds]`: one server under
// `node --cpu-prof` (pinned like the bench), loaded with a warm identity, then
// the functions with the most self time. The .cpuprofile lands in
// bench/profiles/ for Chrome DevTools.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const [framework = 'fastify', variant = 'idgate', seconds = '5'] = process.argv.slice(2);
if (!process.env.IDGATE_BENCH_PINNED) {
  const r = spawnSync('taskset', ['-c', '1', process.execPath, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, IDGATE_BENCH_PINNED: '1' } });
  process.exit(r.status ?? 1);
}
const { startMockUpstream } = await import('@idgate/mock-upstream');
const { startServer, serverOf, BENCH_DIR } = await import('./lib/proc.mjs');
const { loginMany, MOCK_API_KEY } = await import('./lib/upstream.mjs');
const { load } = await import('./lib/load.mjs');
const { request } = await import('./lib/http.mjs');

const dir = join(BENCH_DIR, 'profiles');
mkdirSync(dir, { recursive: true });
const mock = await startMockUpstream({ quiet: true });
const [warmId] = await loginMany(mock, 1);
const config = { upstreamUrl: mock.url, apiKey: MOCK_API_KEY, secret: 'idgate-bench-secret-0123456789abcdef', warmId };
const server = await startServer(...serverOf(framework, variant), { env: { BENCH_CONFIG: JSON.stringify(config) }, nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${framework}-${variant}.cpuprofile`] });
const cookie = `identityId=${warmId}`;
let cookies = cookie;
if (variant === 'session') {
  const login = await request(`${server.url}/__bench/login`, { method: 'POST' });
  cookies = [].concat(login.headers['set-cookie']).map((c) => c.split(';')[0]).join('; ');
}
await request(`${server.url}/api/me`, { headers: { cookie: cookies } });
const r = await load({ url: `${server.url}/api/me`, cookies, duration: Number(seconds), connections: 50, label: 'profile' });
await server.stop();
await mock.close();
console.log(`${framework}/${variant}: ${Math.round(r.rps)} req/s`);

const profile = JSON.parse(readFileSync(join(dir, `${framework}-${variant}.cpuprofile`), 'utf8'));
const self = new Map();
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const dt = new Map();
for (let i = 0; i < profile.samples.length; i++) dt.set(profile.samples[i], (dt.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0));
let total = 0;
for (const [id, us] of dt) {
  const n = byId.get(id);
  const cf = n.callFrame;
  const key = `${cf.functionName || '(anonymous)'} ${cf.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/packages\//, 'packages/')}:${cf.lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + us);
  total += us;
}
import('node:fs').then((fs) => fs.writeFileSync(join(dir, `${framework}-${variant}.self.json`), JSON.stringify({ responses: r.responses, self: Object.fromEntries(self) })));
const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.TOP ?? 40));
for (const [k, us] of top) console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);

// Inclusive time of the functions whose name or file matches FOCUS (default: idgate's own code).
const focus = new RegExp(process.env.FOCUS ?? 'packages/(core|fastify|koa|express)/|floor|guard');
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const inclusive = new Map();
for (const [id, us] of dt) {
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const cf = byId.get(cur).callFrame;
    const key = `${cf.functionName || '(anonymous)'} ${cf.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/packages\//, 'packages/')}:${cf.lineNumber + 1}`;
    if (seen.has(key) || !focus.test(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + us);
  }
}
console.log('\ninclusive (% of all samples):');
for (const [k, us] of [...inclusive].sort((x, y) => y[1] - x[1]).slice(0, 30)) console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
