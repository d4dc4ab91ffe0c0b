#!/usr/bin/env node
// Development tool: `node bench/callgrind.mjs <framework> <variant,...> [reps] [warm] [measured]`.
// Counts, instead of timing: each variant's server runs under valgrind's
// callgrind (Debian package valgrind) with instrumentation off; it is warmed
// with `warm` requests, instrumentation is switched on for `measured`
// requests, and the totals are divided by `measured`. Prints per request:
// instructions (Ir), simulated L1 instruction-cache misses (I1mr), L1 data
// misses (D1mr) and mispredicted conditional branches (Bcm), for each of
// `reps` fresh processes (V8's optimisation state varies from process to
// process; now and then one lands in a markedly slower state, so look at
// several). About 70 s per process at the defaults. A count is exact where a
// timing on this machine is ±1 µs per process: it ranks changes of a few
// hundred instructions per request (bench/PROFILE.md, fourth pass). The cache
// ttl is raised to an hour so refresh-ahead does not fire inside the window
// (valgrind runs the server ~50× slower).
import { spawn, execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import { BENCH_DIR, serverOf } from './lib/proc.mjs';
import { loginMany, MOCK_API_KEY, BENCH_SECRET } from './lib/upstream.mjs';

const [framework = 'fastify', list = 'lru-nostore,idgate', reps = '1', warm = '20000', measured = '5000'] = process.argv.slice(2);
if (spawnSync('valgrind', ['--version']).status !== 0) {
  console.error('bench/callgrind.mjs needs valgrind (apt-get install -y valgrind)');
  process.exit(2);
}
const CONNECTIONS = 50;
const { startMockUpstream } = await import('@idgate/mock-upstream');
const mock = await startMockUpstream({ quiet: true });
const [warmId] = await loginMany(mock, 1);
const config = { upstreamUrl: mock.url, apiKey: MOCK_API_KEY, secret: BENCH_SECRET, warmId, idgate: { cache: { ttl: 3_600_000 } } };
const cookie = `identityId=${warmId}`;
const dir = mkdtempSync(join(tmpdir(), 'idgate-callgrind-'));

/**
 * `n` requests over the agent's CONNECTIONS keep-alive sockets, each checked.
 * Warm-up and measurement share the agent: sockets opened inside the window
 * would count their set-up, and the code it compiles, against the requests.
 */
async function load(agent, port, n) {
  let next = 0;
  const one = () =>
    new Promise((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/api/me', agent, headers: { cookie } }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${framework}: status ${res.statusCode}`))));
      }).on('error', reject);
    });
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (next++ < n) await one();
  }));
}

async function measure(variant, rep) {
  const [script, args] = serverOf(framework, variant);
  const out = join(dir, `${variant}.${rep}`);
  const child = spawn('valgrind', ['--tool=callgrind', '--instr-atstart=no', '--cache-sim=yes', '--branch-sim=yes', `--callgrind-out-file=${out}`, process.execPath, script, ...args], {
    cwd: BENCH_DIR,
    env: { ...process.env, NODE_ENV: 'production', BENCH_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const port = await new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      const m = /"port":(\d+)/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`${framework}/${variant} exited ${code}: ${stderr.slice(-2000)}`)));
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  await load(agent, port, Number(warm));
  const control = (flag) => execFileSync('callgrind_control', [flag, String(child.pid)], { stdio: 'ignore' });
  control('--instr=on');
  await load(agent, port, Number(measured));
  control('--instr=off');
  agent.destroy();
  control('--dump');
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  const totals = {};
  for (const file of readdirSync(dir).filter((f) => f.startsWith(`${variant}.${rep}`))) {
    const text = readFileSync(join(dir, file), 'utf8');
    const events = /^events: (.*)$/m.exec(text)?.[1].split(' ') ?? [];
    const line = /^totals: (.*)$/m.exec(text)?.[1].split(' ').map(Number) ?? [];
    line.forEach((v, i) => (totals[events[i]] = (totals[events[i]] ?? 0) + v));
  }
  const per = (e) => ((totals[e] ?? 0) / Number(measured)).toFixed(0).padStart(8);
  console.log(`${framework.padEnd(8)} ${variant.padEnd(20)} #${rep}  Ir ${per('Ir')}  I1mr ${per('I1mr')}  D1mr ${per('D1mr')}  Bcm ${per('Bcm')}  per request`);
}

try {
  for (let rep = 1; rep <= Number(reps); rep++) for (const variant of list.split(',')) await measure(variant, rep);
} finally {
  await mock.close();
  rmSync(dir, { recursive: true, force: true });
}
