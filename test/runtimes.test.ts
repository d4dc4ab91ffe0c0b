// A smoke run of @idgate/hono on Bun and on Deno: the small app in
// runtimes/hono-app.mjs (the built packages, as a user would import them)
// against the real mock upstream over sockets: anonymous, protected route,
// login, session, protect option, logout. The binaries come from the npm
// registry (`node scripts/runtimes.mjs` puts them in .cache/runtimes), or
// IDGATE_BUN / IDGATE_DENO, or PATH; a runtime that is not there is skipped,
// and the reason printed.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, TEST_SECRET, startMockUpstream, type MockUpstream } from './harness.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const here = fileURLToPath(new URL('.', import.meta.url));

function find(name: 'bun' | 'deno'): { path?: string; reason?: string } {
  const fromEnv = process.env[`IDGATE_${name.toUpperCase()}`];
  if (fromEnv) return existsSync(fromEnv) ? { path: fromEnv } : { reason: `IDGATE_${name.toUpperCase()}=${fromEnv} does not exist` };
  const cached = join(root, '.cache', 'runtimes', 'node_modules', '.bin', name);
  if (existsSync(cached)) return { path: cached };
  try {
    return { path: execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() };
  } catch {
    return { reason: `no ${name} binary (run \`node scripts/runtimes.mjs\` to install it from the npm registry, or set IDGATE_${name.toUpperCase()})` };
  }
}

const built = existsSync(join(root, 'packages', 'hono', 'dist', 'index.js'));
const RUNTIMES = [
  { name: 'bun' as const, args: (file: string) => [file] },
  { name: 'deno' as const, args: (file: string) => ['run', '--allow-net=127.0.0.1', '--allow-env', '--allow-read', file] },
];

describe.each(RUNTIMES)('@idgate/hono on $name', ({ name, args }) => {
  const binary = find(name);
  const skip = !binary.path ? binary.reason! : !built ? 'packages are not built (npm test builds them first)' : undefined;
  if (skip) console.info(`[runtimes] ${name} skipped: ${skip}`);
  let mock: MockUpstream;
  let child: ChildProcess | undefined;
  let base = '';

  beforeAll(async () => {
    if (skip) return;
    mock = await startMockUpstream({ port: 0 });
    child = spawn(binary.path!, args(join(here, 'runtimes', 'hono-app.mjs')), {
      cwd: here,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, SMOKE_UPSTREAM: mock.url, SMOKE_API_KEY: API_KEY, SMOKE_SECRET: TEST_SECRET, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    const ready = await new Promise<{ port: number; runtime: string }>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`${name} did not start in 20 s: ${err}`)), 20_000);
      child!.stdout!.on('data', (d) => {
        out += d;
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (line) {
          clearTimeout(timer);
          resolve(JSON.parse(line));
        }
      });
      child!.once('exit', (code) => reject(new Error(`${name} exited with ${code}: ${err}`)));
    });
    console.info(`[runtimes] running on ${ready.runtime}`);
    base = `http://127.0.0.1:${ready.port}`;
  }, 30_000);
  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await mock?.close();
  });

  it.skipIf(skip !== undefined)('anonymous, protected route, login, session, protect option, logout', async () => {
    expect(await (await fetch(`${base}/public`)).json()).toEqual({ identity: null, status: 'anonymous' });
    const api = await fetch(`${base}/account`, { headers: { accept: 'application/json' } });
    expect(api.status).toBe(401);
    expect(await api.json()).toEqual({ error: 'UNAUTHENTICATED' });
    // supertest, not fetch: fetch always says Sec-Fetch-Mode: cors, an API call.
    const nav = await request(base).get('/account').set('Accept', 'text/html');
    expect(nav.status).toBe(303);
    expect(nav.headers.location).toBe('/login?returnTo=%2Faccount');
    expect(nav.headers['cache-control']).toBe('no-store');

    const login = await fetch(`${base}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'demo@example.com', password: 'demo-password' }) });
    expect(login.status).toBe(200);
    const [setCookie] = login.headers.getSetCookie();
    expect(setCookie).toMatch(/^identityId=[A-Za-z0-9]{32}\.[0-9a-z]+\.[A-Za-z0-9_-]{22}; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax$/);
    // The client IP reached the upstream from the runtime's own connection info.
    expect(mock.requests('login')[0]!.body).toMatchObject({ email: 'demo@example.com', customerRealIp: '127.0.0.1' });
    const cookie = setCookie!.split(';')[0]!;

    const account = await fetch(`${base}/account`, { headers: { cookie, accept: 'application/json' } });
    expect(account.status).toBe(200);
    expect(account.headers.get('cache-control')).toBe('private, no-store');
    expect(account.headers.get('vary')).toMatch(/Cookie/);
    expect(((await account.json()) as { identity: { email: string } }).identity.email).toBe('demo@example.com');
    expect((await fetch(`${base}/members/area`, { headers: { cookie } })).status).toBe(200);

    const logout = await fetch(`${base}/logout`, { method: 'POST', headers: { cookie, accept: 'application/json' } });
    expect(logout.status).toBe(200);
    expect(await logout.json()).toEqual({ loggedOut: true });
    expect(logout.headers.getSetCookie()[0]).toMatch(/^identityId=; .*Max-Age=0/);
    expect(mock.requests('logout')).toHaveLength(1);
    const after = await fetch(`${base}/account`, { headers: { cookie, accept: 'application/json' } });
    expect(after.status).toBe(401);
  }, 30_000);
});
