#!/usr/bin/env node
// Checks what ships: packs every published package, then for each tarball
// asserts its file list (LICENSE, README.md, package.json, dist/ only), that
// no `workspace:` range survived, the release metadata, and runs publint
// (strict: warnings fail) and @arethetypeswrong/cli (any problem fails).
// Needs built dist (`pnpm run build`). About 30 s for the eight packages.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { packAll, publishedPackages, root } from './pack.mjs';

// bin/: a CLI shim that exists before the build (so installing the workspace links it without a warning).
const ALLOWED = /^package\/(LICENSE|README\.md|package\.json|dist\/.+|bin\/[\w-]+\.js)$/;
const license = readFileSync(join(root, 'LICENSE'), 'utf8');
const dest = mkdtempSync(join(tmpdir(), 'idgate-check-'));
const failures = [];
const fail = (name, msg) => failures.push(`${name}: ${msg}`);

try {
  // pnpm drops lifecycle scripts from the packed manifest: check the source.
  for (const p of publishedPackages()) {
    const src = JSON.parse(readFileSync(join(p.dir, 'package.json'), 'utf8'));
    if (!/\bbuild\b/.test(src.scripts?.prepack ?? '')) fail(p.name, 'no prepack build');
  }
  const tarballs = packAll(dest);
  for (const [name, file] of Object.entries(tarballs)) {
    const list = spawnSync('tar', ['-tzf', file], { encoding: 'utf8' }).stdout.trim().split('\n');
    for (const entry of list) if (!ALLOWED.test(entry)) fail(name, `ships ${entry}`);
    for (const must of ['package/LICENSE', 'package/README.md', 'package/package.json']) if (!list.includes(must)) fail(name, `lacks ${must}`);
    if (!list.some((e) => e.startsWith('package/dist/'))) fail(name, 'ships no dist');
    const read = (entry) => spawnSync('tar', ['-xzOf', file, entry], { encoding: 'utf8', maxBuffer: 1 << 26 }).stdout;
    if (read('package/LICENSE') !== license) fail(name, 'LICENSE differs from the root LICENSE');
    const manifest = read('package/package.json');
    if (manifest.includes('workspace:')) fail(name, 'a workspace: range survived packing');
    const pkg = JSON.parse(manifest);
    if (pkg.publishConfig?.access !== 'public') fail(name, 'publishConfig.access is not public');
    for (const field of ['repository', 'homepage', 'bugs', 'keywords', 'engines', 'license']) if (!pkg[field]) fail(name, `no ${field}`);
    // Shipped text names upstream APIs, never internal design notes.
    for (const entry of list.filter((e) => e !== 'package/LICENSE')) {
      if (/\bseeds? \d{3}\b|\bseeds\/|\bthe seed\b|DESIGN\.md/i.test(read(entry))) fail(name, `${entry} cites an internal document`);
    }

    const { messages, pkg: linted } = await publint({ pack: { tarball: readFileSync(file).buffer }, strict: true, level: 'warning' });
    for (const m of messages) {
      const line = `publint ${m.type}: ${formatMessage(m, linted)}`;
      if (m.type === 'error' || m.type === 'warning') fail(name, line);
      else console.log(`${name}: ${line}`);
    }
    const attw = spawnSync(join(root, 'node_modules/.bin/attw'), [file, '--format', 'ascii'], { encoding: 'utf8' });
    if (attw.status !== 0) fail(name, `attw:\n${attw.stdout}${attw.stderr}`);
    console.log(`${name}: ${list.length} files, publint and attw clean`);
  }
} finally {
  rmSync(dest, { recursive: true, force: true });
}
if (failures.length) {
  console.error(`\ncheck-packages: ${failures.length} problem(s)\n${failures.join('\n')}`);
  process.exit(1);
}
console.log('check-packages: every package ships clean');
