// Issue 14: every example fails fast with one line that names the cause (no
// stack, exit code 1) when the user set something wrong, and stops with its
// whole process tree on SIGTERM, including through `npm run demo` and `npm run
// mock`. Each case spawns the real example processes (node + tsx, as `npm run
// demo` does) on 127.0.0.1.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, freePort, startMockUpstream, type MockUpstream } from './harness.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLES = ['express-app', 'koa-app', 'fastify-app', 'hono-app', 'nestjs-app', 'chat-proxy'] as const;
const BASE_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('IDGATE_') && k !== 'PORT' && k !== 'HOST' && k !== 'NODE_OPTIONS'));

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run an example until it exits (or `timeoutMs`, then kill it and fail). */
function runExample(example: string, env: Record<string, string>, timeoutMs = 15_000): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: `${ROOT}examples/${example}`, env: { ...BASE_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${example} still running after ${timeoutMs} ms; stdout: ${stdout}; stderr: ${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Exit code 1, exactly one line on stderr matching `line`, no stack frame anywhere. */
function expectOneLine(example: string, exit: Exit, line: RegExp): void {
  const lines = exit.stderr.split('\n').filter((l) => l.trim() !== '');
  expect({ example, code: exit.code, lines }).toEqual({ example, code: 1, lines: [expect.stringMatching(line)] });
  expect(exit.stdout + exit.stderr).not.toMatch(/^\s+at /m);
  expect(exit.stdout).not.toMatch(/demo: http/); // never "ready" when it is not
}

const eachExample = (env: () => Promise<Record<string, string>> | Record<string, string>, line: RegExp | ((env: Record<string, string>) => RegExp), examples: readonly string[] = EXAMPLES) =>
  Promise.all(
    examples.map(async (example) => {
      const e = await env();
      expectOneLine(example, await runExample(example, e), typeof line === 'function' ? line(e) : line);
    }),
  );

describe('examples fail fast with one clear line', () => {
  let strict: MockUpstream;
  beforeAll(async () => {
    strict = await startMockUpstream({ port: 0, apiKeys: ['PROD' + 'zyxwvutsrqponmlkjihgfedcba98'] });
  });
  afterAll(() => strict.close());

  it('PORT=abc names PORT', () => eachExample(() => ({ PORT: 'abc' }), /^PORT="abc" is not a port number: set PORT to an integer from 0 to 65535/));

  it('a busy port names the port and PORT, on every example (no "ready" while another server owns it)', async () => {
    const servers: Server[] = [];
    try {
      await eachExample(async () => {
        const server = createServer();
        servers.push(server);
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        return { PORT: String((server.address() as { port: number }).port) };
      }, (env) => new RegExp(`^port ${env.PORT} on 127\\.0\\.0\\.1 is already in use: stop the other server or set PORT to a free port$`));
    } finally {
      for (const s of servers) s.close();
    }
  });

  it('a malformed IDGATE_API_KEY names IDGATE_API_KEY', () =>
    eachExample(() => ({ PORT: '0', IDGATE_API_KEY: 'not-a-valid-key' }), /^idgate: option `apiKey` \(from IDGATE_API_KEY\) expected/));

  it('an empty IDGATE_API_KEY names IDGATE_API_KEY', () =>
    eachExample(() => ({ PORT: '0', IDGATE_API_KEY: '' }), /^idgate: option `apiKey` is required \(pass it or set IDGATE_API_KEY\)$/));

  it('IDGATE_UPSTREAM_URL without a scheme names IDGATE_UPSTREAM_URL', () =>
    eachExample(() => ({ PORT: '0', IDGATE_UPSTREAM_URL: 'localhost:4010' }), /^idgate: option `upstreamUrl` \(from IDGATE_UPSTREAM_URL\) expected an http\(s\) URL$/));

  it('a well-formed key the upstream rejects: the start-up check names IDGATE_API_KEY and the upstream code', () =>
    eachExample(() => ({ PORT: '0', IDGATE_UPSTREAM_URL: strict.url, IDGATE_API_KEY: API_KEY, IDGATE_CHAT_URL: strict.url }), /^idgate: the upstream rejected IDGATE_API_KEY \(401 INVALID_API_KEY\)$/));

  it('an upstream nobody listens on: the start-up check names IDGATE_UPSTREAM_URL', async () => {
    const port = await freePort();
    await eachExample(() => ({ PORT: '0', IDGATE_UPSTREAM_URL: `http://127.0.0.1:${port}`, IDGATE_CHAT_URL: `http://127.0.0.1:${port}` }), new RegExp(`^idgate: nothing accepts connections at the upstream 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\); check IDGATE_UPSTREAM_URL`));
  });

  // The chat example has no KYC button, so it reads no IDGATE_KYC_* variable.
  it('a bad IDGATE_KYC_* value names the variable, not the option', () =>
    eachExample(
      () => ({ PORT: '0', IDGATE_KYC_BASE_URL: 'not a url', IDGATE_KYC_APP_ID: 'a', IDGATE_KYC_APP_SECRET: 's', IDGATE_KYC_TENANT_ID: 't', IDGATE_KYC_FORM_ID: 'f' }),
      /^@idgate\/kyc: IDGATE_KYC_BASE_URL \(option `baseUrl`\) /,
      EXAMPLES.filter((e) => e !== 'chat-proxy'),
    ));
});

/** Resolves with the ready line's URL once `child` prints it (the demo's, or `line`). */
function ready(child: ChildProcess, line = /demo: (http:\/\/\S+)/): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = line.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`exited ${code} before ready: ${out}`)));
  });
}

/** SIGTERM to `npm` (only: npm does not pass it on), then whether anything still serves `port` after up to 10 s. */
async function servedAfterSigterm(npm: ChildProcess, port: number): Promise<boolean> {
  npm.kill('SIGTERM');
  let served = true;
  for (let i = 0; i < 40 && served; i++) {
    await new Promise((r) => setTimeout(r, 250));
    served = await listening(port);
  }
  return served;
}

const listening = async (port: number) => {
  try {
    await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1_000) });
    return true;
  } catch {
    return false;
  }
};

describe('the demo stops on SIGTERM, whole tree', () => {
  it.each(EXAMPLES)('%s: SIGTERM closes the port and ends the process', async (example) => {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: `${ROOT}examples/${example}`, env: { ...BASE_ENV, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
    await ready(child);
    expect(await listening(port)).toBe(true);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(await listening(port)).toBe(false);
  });

  // Koa, and NestJS (whose script is the newest: this also checks `npm run demo:nestjs` is wired up).
  it.each(['demo:koa', 'demo:nestjs'])('SIGTERM to `npm run %s` leaves no process serving the port (npm does not pass it on; task.mjs notices)', async (script) => {
    const port = await freePort();
    // Install and build are the CI run's own first step; this case checks signals only.
    const npm = spawn('npm', ['run', '--silent', script], { cwd: ROOT, env: { ...BASE_ENV, PORT: String(port), IDGATE_TASK_SKIP_PREPARE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      await ready(npm);
      expect(await listening(port)).toBe(true);
      expect(await servedAfterSigterm(npm, port)).toBe(false);
    } finally {
      npm.kill('SIGKILL');
    }
  });

  it('SIGTERM to `npm run mock` leaves no mock upstream serving the port (its node child used to be orphaned)', async () => {
    const port = await freePort();
    // Its own process group, so that the cleanup below also ends a child npm left behind.
    const npm = spawn('npm', ['run', '--silent', 'mock', '--', '--port', String(port)], { cwd: ROOT, env: { ...BASE_ENV, IDGATE_TASK_SKIP_PREPARE: '1' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    try {
      expect(await ready(npm, /idgate-mock listening on (http:\/\/\S+)/)).toBe(`http://127.0.0.1:${port}`);
      expect(await listening(port)).toBe(true);
      expect(await servedAfterSigterm(npm, port)).toBe(false);
    } finally {
      try {
        process.kill(-npm.pid!, 'SIGKILL');
      } catch {
        // the group is gone
      }
    }
  });
});
