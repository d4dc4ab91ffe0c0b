#!/usr/bin/env node
// `npm run bench` / `npm run bench -- --quick`: idgate's cache-hit path against bare
// frameworks, a hand-written lru-cache floor and the usual session
// middlewares; upstream economy; cold-path latency; memory; Redis.
// Results: bench/RESULTS.md and bench/results.json. Any broken check fails
// the run (exit 1) and writes no results.
//
// Options: --quick (shortened, about 3 minutes), --no-build (use the packages'
// dist as they are), --sections=1,2,3,4,5 and --frameworks=hono,nestjs,… (a subset;
// results are then partial),
// --report (rewrite RESULTS.md from results.json without measuring).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const ROOT = join(BENCH_DIR, '..');
const PACKAGES = ['core', 'express', 'fastify', 'koa', 'hono', 'nestjs', 'redis', 'mock-upstream'];

if (args.includes('--report')) {
  // Rewrite RESULTS.md from results.json (e.g. after editing PROFILE.md); measures nothing.
  const { readFileSync } = await import('node:fs');
  const { writeReport } = await import('./lib/report.mjs');
  // --partial: the last development run's files (results.partial.json, RESULTS-PARTIAL.md).
  const [json, md] = args.includes('--partial') ? ['results.partial.json', 'RESULTS-PARTIAL.md'] : QUICK ? ['results.quick.json', 'RESULTS-QUICK.md'] : ['results.json', 'RESULTS.md'];
  writeReport(JSON.parse(readFileSync(join(BENCH_DIR, json), 'utf8')), join(BENCH_DIR, md));
  console.log(`idgate bench: rewrote bench/${md} from bench/${json}`);
  process.exit(0);
}

if (!process.env.IDGATE_BENCH_PINNED) {
  // Outside the pinned process: check the machine, build, then re-exec the
  // runner (and so autocannon and the in-process mock) on the load core.
  if (os.availableParallelism() < 2) {
    console.error('idgate bench: needs 2 cores (server pinned to one, load generator to the other).');
    process.exit(1);
  }
  if (spawnSync('taskset', ['-c', '1', 'true']).status !== 0) {
    console.error('idgate bench: taskset is required (util-linux).');
    process.exit(1);
  }
  if (!args.includes('--no-build')) build();
  const started = Date.now();
  const child = spawnSync('taskset', ['-c', '1', process.execPath, fileURLToPath(import.meta.url), ...args], {
    stdio: 'inherit',
    env: { ...process.env, IDGATE_BENCH_PINNED: '1', IDGATE_BENCH_STARTED: String(started) },
  });
  process.exit(child.status ?? 1);
}

/** Build the packages the servers import, when a source file is newer than its dist. */
function build() {
  const newest = (dir) => {
    let t = 0;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, entry.name);
      t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
    }
    return t;
  };
  const stale = PACKAGES.filter((name) => {
    const pkg = join(ROOT, 'packages', name);
    const dist = join(pkg, 'dist', 'index.js');
    return !existsSync(dist) || newest(join(pkg, 'src')) > statSync(dist).mtimeMs;
  });
  if (stale.length === 0) return;
  console.log(`idgate bench: building ${stale.join(', ')} (sources newer than dist)`);
  const filters = stale.flatMap((name) => ['--filter', `./packages/${name}`]);
  // pnpm itself when it is the pinned version, else the pinned one through npx (a machine with only Node and npm).
  const pinned = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).packageManager.split('@')[1];
  const probe = spawnSync('pnpm', ['--version'], { encoding: 'utf8' });
  const [cmd, pre] = probe.status === 0 && probe.stdout.trim() === pinned ? ['pnpm', []] : ['npx', ['-y', `pnpm@${pinned}`]];
  const result = spawnSync(cmd, [...pre, ...filters, 'run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error('idgate bench: build failed; nothing was measured.');
    process.exit(1);
  }
}

const { main } = await import('./lib/main.mjs');
await main({ quick: QUICK, args, started: Number(process.env.IDGATE_BENCH_STARTED) || Date.now() });
