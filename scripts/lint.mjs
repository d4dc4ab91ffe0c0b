#!/usr/bin/env node
// The workspace's lint: the dependency rule of docs/architecture.md, checked on every import,
// plus the mistakes a reviewer would otherwise have to catch by eye.
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..');
// Every module a file names: `import … from`, `export … from`, a bare `import 'x'`, `import('x')`, `require('x')`.
const IMPORTS = /(?:^|[\n;])\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|(?:^|[\n;])\s*import\s+['"]([^'"]+)['"]|\b(?:import|require)\(\s*['"]([^'"]+)['"]\s*\)/g;
const specsOf = (text) => [...text.matchAll(IMPORTS)].map((m) => m[1] ?? m[2] ?? m[3]);
/** Rule 5: a relative import that leaves `home` (a package's or an example's folder) reaches into another's. */
const escapes = (file, spec, home) => spec.startsWith('.') && !resolve(dirname(file), spec).startsWith(home + sep);
const FRAMEWORKS = /^(express|koa|fastify|hono|@hono\/|@koa\/|@fastify\/|fastify-plugin|cookie-parser|@nestjs\/)/;
// What each package may import of ours (beyond itself) and whether it may import a framework.
const RULES = {
  // Runtime-neutral (Node, Bun, Deno): Node's server modules only behind the `@idgate/core/node` entry.
  core: { ours: [], framework: false, neutral: { forbid: /^node:(http|https|net|stream|events)$/, except: 'node.ts' } },
  express: { ours: ['core'], framework: /^express$/, adapter: true },
  koa: { ours: ['core'], framework: /^(koa|@koa\/)/, adapter: true },
  fastify: { ours: ['core'], framework: /^(fastify|fastify-plugin|@fastify\/)/, adapter: true },
  hono: { ours: ['core'], framework: /^(hono|@hono\/)/, adapter: true, neutral: { forbid: /^(node:|@idgate\/core\/node$)/ } },
  nestjs: { ours: ['core'], framework: /^@nestjs\//, adapter: true },
  redis: { ours: ['core'], framework: false },
  chat: { ours: ['core'], framework: false },
  kyc: { ours: ['core'], framework: false },
  'mock-upstream': { ours: [], framework: false },
  telemetry: { ours: ['core'], framework: false },
};

// An adapter translates; core decides (STYLE.md rule 1). What deciding looks like in an adapter's
// source: an auth status code, an auth error code, or a call to one of core's deciding helpers.
const DECISIONS = [
  [/\b(?:status(?:Code)?\s*[=:(]\s*|code\(\s*)(?:303|401|403|503)\b/, 'an auth status code'],
  [/['"](?:UNAUTHENTICATED|SESSION_EXPIRED|INVALID_IDENTITY|FORBIDDEN|UPSTREAM_UNAVAILABLE)['"]/, 'an auth error code'],
  [/\b(?:isNavigation|isSameOriginPost|safeReturnTo|readCookie|clearedCookie|sessionCookie|openSession)\s*\(/, "one of core's deciding helpers"],
  [/\bidentityStatus\s*===|\.status\s*===\s*['"](?:authenticated|anonymous|expired|invalid|unavailable)['"]/, 'a branch on the identity status'],
  [/\bprotects\s*\(/, 'a protect check (pass the request to gate.decide)'],
];

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === 'node_modules' || name === 'dist') continue;
    if (statSync(p).isDirectory()) yield* files(p);
    else if (/\.(ts|mts|js|mjs)$/.test(name)) yield p;
  }
}

const problems = [];
for (const [pkg, rule] of Object.entries(RULES)) {
  const src = join(root, 'packages', pkg, 'src');
  if (!existsSync(src)) continue;
  for (const file of files(src)) {
    const text = readFileSync(file, 'utf8');
    const rel = relative(root, file);
    const isTest = /\.test\.ts$/.test(file);
    for (const spec of isTest ? [] : specsOf(text)) {
      if (escapes(file, spec, join(root, 'packages', pkg))) problems.push(`${rel}: ${pkg} imports ${spec}, outside its package (import @idgate/<name>)`);
      if (rule.neutral && !file.endsWith(`${sep}${rule.neutral.except}`) && rule.neutral.forbid.test(spec)) problems.push(`${rel}: ${pkg} runs on Node, Bun and Deno alike: no ${spec} here`);
      const ours = /^@idgate\/([^/]+)/.exec(spec);
      if (ours && ours[1] !== pkg && !rule.ours.includes(ours[1])) problems.push(`${rel}: ${pkg} must not import ${spec}`);
      if (FRAMEWORKS.test(spec) && !(rule.framework && rule.framework.test(spec))) problems.push(`${rel}: ${pkg} must not import the framework ${spec}`);
    }
    if (rule.adapter && !isTest) {
      for (const [pattern, what] of DECISIONS) if (pattern.test(text)) problems.push(`${rel}: an adapter decides nothing itself (${what}: move it into core)`);
    }
    if (/\b(it|test|describe)\.only\(/.test(text)) problems.push(`${rel}: focused test (.only)`);
    if (!isTest && pkg !== 'mock-upstream' && /console\.(log|info|debug)\(/.test(text)) problems.push(`${rel}: console logging in a package (use the logger option)`);
  }
}
for (const dir of ['test', 'examples']) {
  const base = join(root, dir);
  if (!existsSync(base)) continue;
  for (const file of files(base)) {
    const text = readFileSync(file, 'utf8');
    const rel = relative(root, file);
    if (/\b(it|test|describe)\.only\(/.test(text)) problems.push(`${rel}: focused test (.only)`);
    // An example is a user's app: it imports idgate by package name, as users do.
    if (dir === 'examples') {
      const home = join(base, rel.split(sep)[1]);
      for (const spec of specsOf(text)) if (escapes(file, spec, home)) problems.push(`${rel}: an example imports ${spec}, outside its folder (import @idgate/<name>)`);
    }
  }
}
if (problems.length) {
  console.error(problems.join('\n'));
  console.error(`lint: ${problems.length} problem(s)`);
  process.exit(1);
}
console.log('lint: dependency rule and test hygiene OK');
