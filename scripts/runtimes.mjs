#!/usr/bin/env node
// Install the Bun and Deno binaries from the npm registry (the `bun` and `deno`
// packages; nothing else is downloaded) into .cache/runtimes, where
// test/runtimes.test.ts finds them. Optional: without them that test skips.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(fileURLToPath(new URL('.', import.meta.url)), '..', '.cache', 'runtimes');
mkdirSync(dir, { recursive: true });
if (!existsSync(join(dir, 'package.json'))) writeFileSync(join(dir, 'package.json'), '{ "private": true }\n');
execFileSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', 'bun@1', 'deno@2'], { cwd: dir, stdio: 'inherit' });
for (const bin of ['bun', 'deno']) execFileSync(join(dir, 'node_modules', '.bin', bin), ['--version'], { stdio: 'inherit' });
