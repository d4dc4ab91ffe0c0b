#!/usr/bin/env node
// Development tool: `node bench/instr.mjs <framework> <variant,variant,...> [requests]`.
// Instructions per request of a whole server over real sockets, counted by
// valgrind's callgrind: the server runs under callgrind, is warmed, its
// counters are dumped and zeroed, then a fixed number of requests (one
// keep-alive connection, a few in flight) is sent and counted. Deterministic
// where CPU time is not: other processes on the machine do not change the
// count. It leaves out cache misses, which a loaded server pays; use it to
// compare variants, and `ab.mjs` / `pnpm bench` for time.
import { spawn, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import http from 'node:http';
import { startMockUpstream } from '@idgate/mock-upstream';
import { BENCH_DIR, serverOf } from './lib/proc.mjs';
import { loginMany, MOCK_API_KEY, BENCH_SECRET } from './lib/upstream.mjs';

const [framework = 'express', variants = 'lru-nostore,idgate', count = '1500', warmCount = '6000', windowCount = '3'] = process.argv.slice(2);
const requests = Number(count);
const mock = await startMockUpstream({ quiet: true });
const [warmId] = await loginMany(mock, 1);
const config = { upstreamUrl: mock.url, apiKey: MOCK_API_KEY, secret: BENCH_SECRET, warmId };
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

function get(port, cookie) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/api/me', agent, headers: { cookie } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
  });
}
async function send(port, cookie, n) {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      await get(port, cookie);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}
const totals = (dir) => {
  const files = readdirSync(dir).filter((f) => f.startsWith('cg.out')).sort();
  return files.map((f) => Number(/^totals: (\d+)/m.exec(readFileSync(join(dir, f), 'utf8'))?.[1] ?? NaN));
};

for (const variant of variants.split(',')) {
  const dir = mkdtempSync(join(tmpdir(), 'idgate-cg-'));
  const [script, args] = serverOf(framework, variant);
  const child = spawn('valgrind', ['--tool=callgrind', '--smc-check=all-non-file', `--callgrind-out-file=${join(dir, 'cg.out')}`, process.execPath, script, ...args], {
    cwd: BENCH_DIR,
    env: { ...process.env, NODE_ENV: 'production', BENCH_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const port = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{"ready"'));
      if (line) resolve(JSON.parse(line).port);
    });
    child.once('exit', (code) => reject(new Error(`${variant} exited ${code}`)));
  });
  const cookie = `identityId=${warmId}`;
  await send(port, cookie, Number(warmCount)); // warm: the JIT tiers up (slowly, under valgrind)
  execFileSync('callgrind_control', ['-d', String(child.pid)], { stdio: 'ignore' });
  for (let w = 0; w < Number(windowCount); w++) {
    await send(port, cookie, requests);
    execFileSync('callgrind_control', ['-d', String(child.pid)], { stdio: 'ignore' });
  }
  const perRequest = totals(dir).slice(1).map((t) => Math.round(t / requests));
  // The least of the windows: the one with the least JIT and GC work left over.
  console.log(`${framework}/${variant}: ${Math.min(...perRequest)} instructions per request (windows of ${requests}: ${perRequest.join(' · ')})`);
  child.kill('SIGKILL');
  await once(child, 'exit');
  if (process.env.KEEP) console.log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
await mock.close();
agent.destroy();
