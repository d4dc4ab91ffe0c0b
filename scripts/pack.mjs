// Packs every published package (packages/*) the way `pnpm publish` would, so
// that the checks and the consumer test look at the bytes users install:
// `workspace:^` rewritten to real versions, only the `files` list plus the
// README, LICENSE and package.json.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The published packages: every packages/* that is not private, as { dir, name, version }. */
export function publishedPackages() {
  return readdirSync(join(root, 'packages'))
    .map((d) => ({ dir: join(root, 'packages', d), pkg: JSON.parse(readFileSync(join(root, 'packages', d, 'package.json'), 'utf8')) }))
    .filter(({ pkg }) => !pkg.private)
    .map(({ dir, pkg }) => ({ dir, name: pkg.name, version: pkg.version }));
}

/** The pnpm command line pinned by the root package.json (npx fetches it when missing). */
export function pnpmCommand() {
  const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager.split('@')[1];
  const probe = spawnSync('pnpm', ['--version'], { encoding: 'utf8' });
  if (probe.status === 0 && probe.stdout.trim() === version) return ['pnpm', []];
  return ['npx', ['-y', `pnpm@${version}`]];
}

/**
 * `pnpm pack` every published package into `dest`; returns name -> tarball
 * path. Lifecycle scripts are skipped (the prepack build already ran as
 * `pnpm run build`), so a missing dist fails here instead of being rebuilt.
 */
export function packAll(dest) {
  mkdirSync(dest, { recursive: true });
  const packages = publishedPackages();
  for (const p of packages) {
    if (!existsSync(join(p.dir, 'dist'))) throw new Error(`${p.name}: no dist; run \`pnpm run build\` first`);
  }
  const [bin, pre] = pnpmCommand();
  const r = spawnSync(bin, [...pre, '-r', '--filter', './packages/**', 'pack', '--pack-destination', dest, '--config.ignore-scripts=true'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`pnpm pack failed:\n${r.stdout}\n${r.stderr}`);
  const tarballs = {};
  for (const p of packages) {
    const file = join(dest, `${p.name.replace('@', '').replace('/', '-')}-${p.version}.tgz`);
    if (!existsSync(file)) throw new Error(`${p.name}: expected ${file}`);
    tarballs[p.name] = file;
  }
  return tarballs;
}
