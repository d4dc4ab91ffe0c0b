// The documentation's commands and snippets work as written (issue 14), in
// every README a user reads: the root README.md, packages/*/README.md,
// examples/*/README.md (plus SECURITY.md and docs/*.md). Every ```ts block
// type-checks against the workspace (one tsc program for all of them, with the
// root tsconfig's path mapping and each README's own package's options),
// every `npm run X` and `pnpm --filter <package> X` names a script that
// exists, pnpm is always the pinned one, every IDGATE_* variable named is one
// idgate reads, and every IDGATE_* variable core reads is in the root table.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string>; packageManager: string; engines: { node: string } };

/** A document checked here, and the tsconfig its snippets compile under (its package's). */
interface Doc {
  path: string;
  text: string;
  tsconfig: string;
}

const inFolders = (folder: string) =>
  readdirSync(join(ROOT, folder))
    .filter((name) => existsSync(join(ROOT, folder, name, 'README.md')))
    .map((name) => ({ path: `${folder}/${name}/README.md`, tsconfig: `${folder}/${name}/tsconfig.json` }));
const DOCS: Doc[] = [
  { path: 'README.md', tsconfig: 'tsconfig.json' },
  { path: 'SECURITY.md', tsconfig: 'tsconfig.json' },
  ...readdirSync(join(ROOT, 'docs')).filter((name) => name.endsWith('.md')).map((name) => ({ path: `docs/${name}`, tsconfig: 'tsconfig.json' })),
  ...inFolders('packages'),
  ...inFolders('examples'),
].map((doc) => ({ ...doc, text: read(doc.path) }));
const README = DOCS[0]!.text;

/** The fenced ```lang blocks of `text`, each with the line of the file its code starts on. */
function blocks(text: string, lang: string): { code: string; line: number }[] {
  return [...text.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => ({
    code: m[1]!,
    line: text.slice(0, m.index).split('\n').length + 1,
  }));
}

/** A tsconfig's compiler options, as tsc reads them. */
function compilerOptions(tsconfig: string): ts.CompilerOptions {
  const config = ts.readConfigFile(join(ROOT, tsconfig), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, join(ROOT, tsconfig, '..'));
  delete options.configFilePath;
  return options;
}

/** `IDGATE_*` names read in `source`: `env.IDGATE_X`, a key `IDGATE_X:` of a table of variables, or a string `'IDGATE_X'`. */
const variablesRead = (source: string) => [...source.matchAll(/\benv\.(IDGATE_[A-Z_]+)|^\s*(IDGATE_[A-Z_]+):|['"](IDGATE_[A-Z_]+)['"]/gm)].map((m) => (m[1] ?? m[2] ?? m[3])!);
const named = (text: string) => [...new Set([...text.matchAll(/\bIDGATE_[A-Z0-9_]+\b/g)].map((m) => m[0]).filter((v) => !v.endsWith('_')))];

describe('every README', () => {
  // Inside test/, so the snippets resolve express, koa, ioredis, @nestjs/*… as the suites do.
  const dir = mkdtempSync(join(ROOT, 'test', '.docs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('every ts snippet type-checks as written (one program; a README compiles under its own package’s tsconfig)', () => {
    const snippets = DOCS.flatMap((doc) =>
      blocks(doc.text, 'ts').map(({ code, line }, i) => {
        const file = join(dir, `${doc.path.replace(/\/?README\.md$|\.md$/, '').replace(/\W+/g, '-') || 'root'}-${i + 1}.ts`);
        writeFileSync(file, code.includes('import ') || code.includes('export ') ? code : `${code}\nexport {};\n`);
        return { doc, line, file };
      }),
    );
    expect(snippets.length).toBeGreaterThanOrEqual(20);
    for (const path of ['README.md', 'packages/core/README.md', 'packages/nestjs/README.md', 'packages/hono/README.md', 'packages/telemetry/README.md']) {
      expect(snippets.some((s) => s.doc.path === path), path).toBe(true);
    }
    const root = compilerOptions('tsconfig.json');
    const program = ts.createProgram(
      snippets.map((s) => s.file),
      { ...root, noEmit: true, noUnusedLocals: false },
    );
    const where = (file: string, pos = 0) => {
      const s = snippets.find((x) => x.file === file)!;
      return `${s.doc.path}:${s.line + program.getSourceFile(file)!.getLineAndCharacterOfPosition(pos).line}`;
    };
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file && snippets.some((s) => s.file === d.file!.fileName))
      .map((d) => `${where(d.file!.fileName, d.start)} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    // One program serves every README, so its options must be each README's own package's.
    // They are, but for experimentalDecorators (the workspace sets it for NestJS), which
    // changes nothing in code without a decorator: a README whose package does not set it
    // has none.
    for (const doc of new Set(snippets.map((s) => s.doc))) {
      const own = compilerOptions(doc.tsconfig);
      for (const [option, value] of Object.entries(own)) {
        if (option !== 'noEmit') expect(root[option], `${doc.tsconfig}: ${option}`).toEqual(value);
      }
      if (own.experimentalDecorators) continue;
      const decorated = (node: ts.Node): boolean => node.kind === ts.SyntaxKind.Decorator || ts.forEachChild(node, decorated) === true;
      for (const s of snippets.filter((x) => x.doc === doc)) {
        if (decorated(program.getSourceFile(s.file)!)) problems.push(`${where(s.file)} a decorator, but ${doc.tsconfig} does not set experimentalDecorators`);
      }
    }
    expect(problems).toEqual([]);
  }, 60_000);

  it('every `npm run X` / `npm X` it names is a root script, every `pnpm --filter <package> X` a script of that package', () => {
    // Every README says its commands run at the repository root.
    const workspace = ['packages', 'examples']
      .flatMap((folder) => readdirSync(join(ROOT, folder)).map((name) => `${folder}/${name}`))
      .filter((path) => existsSync(join(ROOT, path, 'package.json')))
      .map((path) => ({ path, ...(JSON.parse(read(`${path}/package.json`)) as { name: string; scripts?: Record<string, string> }) }));
    const checked = new Set<string>();
    for (const doc of DOCS) {
      const scripts = new Set([...doc.text.matchAll(/npm run ([a-z:-]+)/g)].map((m) => m[1]!));
      for (const m of doc.text.matchAll(/`npm (test|start)\b/g)) scripts.add(m[1]!);
      for (const script of scripts) {
        expect(pkg.scripts, `${doc.path}: npm run ${script}`).toHaveProperty(script);
        checked.add(script);
      }
      for (const m of doc.text.matchAll(/pnpm@[\d.]+ (?:-r )?--filter "?([^\s"]+)"? (?:run )?([a-z:-]+)/g)) {
        const [, filter, script] = m as unknown as [string, string, string];
        // A package name, or a folder glob such as ./packages/**.
        const targets = filter.startsWith('./') ? workspace.filter((p) => p.path.startsWith(filter.slice(2).replace(/\*.*$/, ''))) : workspace.filter((p) => p.name === filter);
        expect(targets.length, `${doc.path}: ${m[0]}`).toBeGreaterThan(0);
        for (const target of targets) expect(target.scripts ?? {}, `${doc.path}: ${m[0]} (${target.path}/package.json)`).toHaveProperty(script);
        checked.add(`${filter} ${script}`);
      }
    }
    expect(checked.size).toBeGreaterThan(8);
  });

  it('every IDGATE_* variable it names is one idgate reads (core: config.ts and the provider; examples: theirs)', () => {
    const core = new Set(variablesRead(read('packages/core/src/config.ts') + read('packages/core/src/bizkithub.ts')));
    const examples = new Set(variablesRead(read('examples/pages/src/demo.ts') + read('examples/chat-proxy/src/server.ts')));
    // Not variables: the codes of the operator warnings (packages/core/src/diagnostics.ts).
    const codes = new Set([...read('packages/core/src/diagnostics.ts').matchAll(/'(IDGATE_[A-Z_]+)'/g)].map((m) => m[1]!));
    expect(core.size).toBeGreaterThanOrEqual(11);
    expect(examples.size).toBeGreaterThanOrEqual(8);
    const unknown = DOCS.flatMap((doc) => {
      // Only the root README and the examples' READMEs speak of the examples' variables.
      const known = doc.path === 'README.md' || doc.path.startsWith('examples/') ? new Set([...core, ...examples]) : core;
      return named(doc.text).filter((v) => !known.has(v) && !codes.has(v)).map((v) => `${doc.path}: ${v}`);
    });
    expect(unknown).toEqual([]);
  });
});

describe('README', () => {
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
    const readByIdgate = new Set(variablesRead(read('packages/core/src/config.ts') + read('examples/pages/src/demo.ts') + read('examples/chat-proxy/src/server.ts')));
    expect(readByIdgate.size).toBeGreaterThan(15);
    const table = README.slice(README.indexOf('## Environment variables'));
    for (const v of [...readByIdgate, 'PORT', 'HOST']) expect(table, v).toContain(`\`${v}\``);
  });

  it('points to docs/architecture.md for the dependency rule, which exists, and lint says so too', () => {
    expect(README).toContain('docs/architecture.md');
    expect(README).not.toContain('DESIGN');
    expect(read('docs/architecture.md')).toMatch(/## The rule/);
    expect(read('scripts/lint.mjs')).toContain('docs/architecture.md');
  });

  it('names every package in its table, in docs/architecture.md’s, and in the lint’s rules', () => {
    const packages = readdirSync(join(ROOT, 'packages')).filter((name) => existsSync(join(ROOT, 'packages', name, 'package.json')));
    expect(packages.length).toBeGreaterThanOrEqual(11);
    const ruled = [...read('scripts/lint.mjs').matchAll(/^\s+'?([a-z-]+)'?: \{ ours:/gm)].map((m) => m[1]);
    const architecture = read('docs/architecture.md');
    for (const name of packages) {
      expect(README, name).toContain(`| [\`@idgate/${name}\`](packages/${name}) |`);
      expect(architecture, name).toContain(`| \`@idgate/${name}\` |`);
      expect(ruled, name).toContain(name);
    }
  });
});
