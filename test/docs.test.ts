// The README's commands and snippets work as written (issue 14): every ```ts
// block type-checks against the workspace (tsc with the root tsconfig's path
// mapping), every `npm run X` it names exists, pnpm is always the pinned one,
// and every IDGATE_* variable core reads is in its table.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string>; packageManager: string; engines: { node: string } };

const blocks = (lang: string) => [...README.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);

describe('README', () => {
  // Inside test/, so the snippets resolve express, koa, ioredis… as the suites do.
  const dir = mkdtempSync(join(ROOT, 'test', '.docs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('every ts snippet type-checks as written', () => {
    const snippets = blocks('ts');
    expect(snippets.length).toBeGreaterThanOrEqual(5);
    const files = snippets.map((code, i) => {
      const file = join(dir, `readme-${i + 1}.ts`);
      writeFileSync(file, code.includes('import ') || code.includes('export ') ? code : `${code}\nexport {};\n`);
      return file;
    });
    const config = ts.readConfigFile(join(ROOT, 'tsconfig.json'), ts.sys.readFile);
    const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
    const program = ts.createProgram(files, { ...options, noEmit: true, noUnusedLocals: false });
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file && files.includes(d.file.fileName))
      .map((d) => `${d.file!.fileName.slice(dir.length + 1)}:${d.file!.getLineAndCharacterOfPosition(d.start ?? 0).line + 1} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    expect(problems).toEqual([]);
  }, 60_000);

  it('every `npm run X` / `npm X` it names is a script of the root package.json', () => {
    const named = new Set([...README.matchAll(/npm run ([a-z:-]+)/g)].map((m) => m[1]!));
    for (const m of README.matchAll(/`npm (test|start)\b/g)) named.add(m[1]!);
    expect(named.size).toBeGreaterThan(5);
    for (const script of named) expect(pkg.scripts, script).toHaveProperty(script);
  });

  it('names pnpm only as the pinned version, always with -y, and scripts never need a pnpm on PATH', () => {
    const pinned = pkg.packageManager.split('@')[1];
    for (const m of README.matchAll(/npx[^`\n]*pnpm@([\d.]+)/g)) {
      expect(m[0]).toContain('npx -y ');
      expect(m[1]).toBe(pinned);
    }
    expect(README).not.toMatch(/(^|[`\s])pnpm (build|typecheck|lint|start|bench|vitest)\b/m);
    for (const [name, command] of Object.entries(pkg.scripts)) {
      if (/(^|&&\s*)pnpm /.test(command)) throw new Error(`script ${name} runs a bare pnpm: ${command}`);
      for (const m of command.matchAll(/pnpm@([\d.]+)/g)) expect(m[1]).toBe(pinned);
    }
  });

  it('states the Node version engines requires', () => {
    const min = pkg.engines.node.replace(/^>=/, '');
    expect(README).toContain(`Node ${min} or newer`);
    expect(README).not.toMatch(/Node 20\+/);
  });

  it('documents every IDGATE_* variable core reads, and the examples\u2019 PORT/HOST', () => {
    const config = readFileSync(join(ROOT, 'packages/core/src/config.ts'), 'utf8');
    const demo = readFileSync(join(ROOT, 'examples/pages/src/demo.ts'), 'utf8') + readFileSync(join(ROOT, 'examples/chat-proxy/src/server.ts'), 'utf8');
    const read = new Set([...(config + demo).matchAll(/\bIDGATE_[A-Z_]+\b/g)].map((m) => m[0]).filter((v) => !v.endsWith('_')));
    expect(read.size).toBeGreaterThan(15);
    const table = README.slice(README.indexOf('## Environment variables'));
    for (const v of [...read, 'PORT', 'HOST']) expect(table, v).toContain(`\`${v}\``);
  });

  it('points to docs/architecture.md for the dependency rule, which exists, and lint says so too', () => {
    expect(README).toContain('docs/architecture.md');
    expect(README).not.toContain('DESIGN');
    expect(readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8')).toMatch(/## The rule/);
    expect(readFileSync(join(ROOT, 'scripts/lint.mjs'), 'utf8')).toContain('docs/architecture.md');
  });
});
