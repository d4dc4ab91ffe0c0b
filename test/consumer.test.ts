// What users install, tested as they install it. Every published package is
// packed (`pnpm pack`: workspace ranges rewritten, only `files`), then the
// tarballs are installed with npm into a scratch ESM app and a scratch CJS app
// in the OS temp dir, outside the workspace: no aliases, no tsconfig paths,
// only node_modules. Each app runs the smoke pass of test/consumer/smoke.mjs
// (login, protect, navigation redirect, expiry, logout, chat forwarding, KYC
// for Express, Koa and Fastify against the packed mock upstream, counted by
// the packed @idgate/telemetry into a prom-client Registry) on Node 20
// and, when scripts/node-binaries.mjs installed them (always in CI), on Node
// 22 and 24; and the type tests of test/types/ compile against the installed
// .d.ts (ESM: .d.ts, CJS: .d.cts). About 60 s with a warm npm cache.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain .mjs scripts without declarations
import { packAll, root } from '../scripts/pack.mjs';
// @ts-expect-error plain .mjs scripts without declarations
import { nodeBinaries } from '../scripts/node-binaries.mjs';

// The frameworks and tools the scratch apps add, pinned to what the workspace tests.
const THIRD_PARTY = ['express@5.3.0', 'koa@3.3.0', '@koa/router@15.7.0', 'fastify@5.12.8', 'typescript@5.9.3', '@types/express@5.0.6', '@types/koa@3.0.3', '@types/node@20.19.43', 'prom-client@15.1.3'];
const here = join(root, 'test/consumer');
const work = mkdtempSync(join(tmpdir(), 'idgate-consumer-'));
const apps = { esm: join(work, 'esm-app'), cjs: join(work, 'cjs-app') } as const;
const nodes: { major: number; path: string }[] = [{ major: Number(process.versions.node.split('.')[0]), path: process.execPath }, ...nodeBinaries()];

// The child processes see neither pnpm's nor npm's per-run settings from the workspace.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm_|PNPM_|pnpm_)/i.test(k) && k !== 'NODE_OPTIONS'));
function sh(cmd: string, args: string[], opts: SpawnSyncOptions = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, timeout: 240_000, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${String(opts.cwd)}) exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return String(r.stdout);
}

/** The test/types/ type tests, made to compile without vitest (and as CommonJS for the CJS app). */
function copyTypeTests(dir: string, cjs: boolean) {
  copyFileSync(join(here, 'expect-type.d.ts'), join(dir, cjs ? 'expect-type.d.cts' : 'expect-type.d.ts'));
  for (const name of ['express', 'koa', 'fastify']) {
    let text = readFileSync(join(root, 'test/types', `${name}.ts`), 'utf8').replace(`from 'vitest'`, cjs ? `from './expect-type.cjs'` : `from './expect-type.js'`);
    // CommonJS has no top-level await; the type of the awaited call is what is checked.
    if (cjs) text = text.replace(/^await /gm, 'void ');
    writeFileSync(join(dir, cjs ? `${name}.cts` : `${name}.ts`), text);
  }
  const tsconfig = {
    compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, esModuleInterop: true,
      // On: npm's flat layout hands @types/koa content-disposition@2's own types, which lack what
      // @types/koa imports (a third-party clash, absent from pnpm's strict layout). Our .d.ts are
      // still what every line of the type tests compiles against; attw checks them file by file.
      skipLibCheck: true, types: ['node'] },
    include: ['*.ts', '*.cts'],
  };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
}

beforeAll(() => {
  const tarballs: Record<string, string> = packAll(join(work, 'tarballs'));
  for (const [format, dir] of Object.entries(apps)) {
    sh('mkdir', ['-p', dir]);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `idgate-consumer-${format}`, private: true, type: format === 'esm' ? 'module' : 'commonjs' }, null, 2));
    copyFileSync(join(here, 'smoke.mjs'), join(dir, 'smoke.mjs'));
    copyFileSync(join(here, format, format === 'esm' ? 'run.mjs' : 'run.cjs'), join(dir, format === 'esm' ? 'run.mjs' : 'run.cjs'));
    copyTypeTests(dir, format === 'cjs');
    sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...Object.values(tarballs), ...THIRD_PARTY], { cwd: dir });
  }
}, 300_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the packed packages, installed outside the workspace', () => {
  it('install with real version ranges: no workspace: range, @idgate/core from its own tarball', () => {
    for (const dir of Object.values(apps)) {
      const express = JSON.parse(readFileSync(join(dir, 'node_modules/@idgate/express/package.json'), 'utf8'));
      expect(express.dependencies['@idgate/core']).toMatch(/^\^\d+\.\d+\.\d+$/);
      const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8'));
      expect(lock.packages['node_modules/@idgate/core'].resolved).toMatch(/^file:.*idgate-core-.*\.tgz$/);
      expect(readFileSync(join(dir, 'node_modules/@idgate/core/LICENSE'), 'utf8')).toBe(readFileSync(join(root, 'LICENSE'), 'utf8'));
    }
  });

  if (process.env.CI) {
    it('CI runs the Node 22 and 24 binaries too', () => {
      expect(nodes.map((n) => n.major)).toEqual([20, 22, 24]);
    });
  }

  for (const { major, path } of nodes) {
    for (const format of ['esm', 'cjs'] as const) {
      it(`Node ${major}, ${format.toUpperCase()} app: login, protect, navigation redirect, chat, KYC, logout and expiry on Express, Koa and Fastify`, () => {
        const out = sh(path, [format === 'esm' ? 'run.mjs' : 'run.cjs'], { cwd: apps[format], timeout: 60_000 });
        const result = JSON.parse(out.trim().split('\n').at(-1)!);
        expect(result).toMatchObject({ format, passed: ['express', 'koa', 'fastify', 'telemetry'] });
        expect(result.node).toMatch(new RegExp(`^v${major}\\.`));
        expect(result.core).toMatch(format === 'esm' ? /node_modules\/@idgate\/core\/dist\/index\.js$/ : /node_modules\/@idgate\/core\/dist\/index\.cjs$/);
      }, 90_000);
    }
  }

  for (const format of ['esm', 'cjs'] as const) {
    it(`the type tests compile against the installed .d.ts (${format.toUpperCase()} app)`, () => {
      const files = sh(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.', '--listFilesOnly'], { cwd: apps[format], timeout: 60_000 });
      sh(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.'], { cwd: apps[format], timeout: 120_000 });
      // The compiler read the installed declarations of the right format, not a source file.
      for (const name of ['express', 'koa', 'fastify', 'core']) {
        expect(files).toContain(`node_modules/@idgate/${name}/dist/index.${format === 'esm' ? 'd.ts' : 'd.cts'}`);
      }
      expect(files).not.toMatch(/\/src\/[^\n]*\.ts\n/);
    }, 150_000);
  }
});
