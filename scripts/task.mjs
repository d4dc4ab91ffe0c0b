#!/usr/bin/env node
// One entry point for the README's two commands, so that a machine with only
// Node and npm can run them: it installs pnpm (pinned), the workspace, builds
// the packages, then starts the demo or runs every test.
import { spawnSync } from 'node:child_process';
import { readFileSync, existsSync, rmSync } from 'node:fs';
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
  pnpm('run', 'typecheck');
  pnpm('run', 'lint');
  const out = join(root, '.vitest-results.json');
  if (existsSync(out)) rmSync(out);
  const code = run(pnpmBin, [...pnpmPre, 'exec', 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`]);
  if (existsSync(out)) {
    const r = JSON.parse(readFileSync(out, 'utf8'));
    const skipped = r.numPendingTests + r.numTodoTests;
    // The plain closing line CI reads, whatever the runner printed above it.
    console.log(`\nvitest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
    if (r.numTotalTests === 0) { console.error('no test ran'); process.exit(1); }
  }
  process.exit(code);
} else {
  console.error('usage: node scripts/task.mjs demo|test');
  process.exit(2);
}
