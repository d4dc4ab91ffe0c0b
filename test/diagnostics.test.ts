// Operator diagnostics (issue 14): configuration-class failures reach the
// operator once per cause, then at most once a minute, through the logger or,
// without one, process warnings; `gate.check()` fails fast with the same line.
// Real sockets throughout: the mock upstream, an unused port, an unresolvable host.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { CHECK_IDENTITY_ID, ConfigError, UpstreamError, createIdgate, type IdgateOptions } from '@idgate/core/adapter';
import { API_KEY, TEST_SECRET, captureLogger, freePort, optionsFor, startMockUpstream, upstreamLogin, type MockUpstream } from './harness.js';
import { expressAdapter } from './adapters/express.js';

const OTHER_KEY = 'PROD' + 'zyxwvutsrqponmlkjihgfedcba98';
const fast = { timeout: 400, totalTimeout: 1_500, retries: 1, backoffBase: 10, backoffMax: 20, retryAfterMax: 100 };

/** Every process warning emitted while `fn` runs, after the warnings' own tick. */
async function warningsDuring(fn: () => Promise<unknown>): Promise<Array<{ code: string | undefined; message: string }>> {
  const seen: Array<{ code: string | undefined; message: string }> = [];
  const listener = (w: Error & { code?: string }) => seen.push({ code: w.code, message: w.message });
  process.on('warning', listener);
  try {
    await fn();
    await new Promise((r) => setTimeout(r, 20));
  } finally {
    process.off('warning', listener);
  }
  return seen.filter((w) => w.code?.startsWith('IDGATE_'));
}

const ENV_KEYS = ['IDGATE_API_KEY', 'IDGATE_UPSTREAM_URL'] as const;
const saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
afterEach(() => {
  for (const k of ENV_KEYS) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

// A gate whose URL and key come from the environment, as a deployment would configure it.
function envGate(url: string, key: string, extra: Partial<IdgateOptions> = {}) {
  process.env.IDGATE_UPSTREAM_URL = url;
  process.env.IDGATE_API_KEY = key;
  return createIdgate({ secret: TEST_SECRET, upstream: fast, ...extra });
}
const probe = (gate: ReturnType<typeof createIdgate>) => gate.upstream.profile(CHECK_IDENTITY_ID).catch((err: unknown) => err);

describe('operator diagnostics', () => {
  let mock: MockUpstream;
  let strict: MockUpstream;
  beforeAll(async () => {
    mock = await startMockUpstream({ port: 0 });
    strict = await startMockUpstream({ port: 0, apiKeys: [OTHER_KEY] });
  });
  afterAll(async () => {
    await mock.close();
    await strict.close();
  });

  it('a rejected key: one warning naming IDGATE_API_KEY and the upstream code, then silence for a minute, then again', async () => {
    let t = 1_000_000;
    const gate = envGate(strict.url, API_KEY, { now: () => t });
    const first = await warningsDuring(async () => {
      for (let i = 0; i < 5; i++) expect(await probe(gate)).toMatchObject({ code: 'UPSTREAM_REJECTED' });
    });
    expect(first).toEqual([{ code: 'IDGATE_UPSTREAM_REJECTED', message: 'idgate: the upstream rejected IDGATE_API_KEY (401 INVALID_API_KEY)' }]);
    t += 59_000;
    expect(await warningsDuring(() => probe(gate))).toEqual([]);
    t += 2_000;
    expect(await warningsDuring(() => probe(gate))).toHaveLength(1);
  });

  it('through a real app: logins and page views with a rejected key warn once, the key never appears', async () => {
    const app = await expressAdapter.start({ idgate: optionsFor(strict, { loginThrottle: false }) });
    try {
      const warnings = await warningsDuring(async () => {
        const session = await upstreamLogin(mock); // a cookie the app cannot verify with its rejected key
        await request(app.url).get('/api/me').set('Cookie', `identityId=${session}`).expect(502); // our key refused: a definitive 502 UPSTREAM_REJECTED, nothing to retry
        await request(app.url).post('/login').send({ email: 'demo@example.com', password: 'demo-password' });
        await request(app.url).post('/login').send({ email: 'demo@example.com', password: 'demo-password' });
      });
      // Passed as an option, the key is named as the option.
      expect(warnings).toEqual([{ code: 'IDGATE_UPSTREAM_REJECTED', message: 'idgate: the upstream rejected option `apiKey` (401 INVALID_API_KEY)' }]);
      expect(JSON.stringify(warnings)).not.toContain(API_KEY);
    } finally {
      await app.close();
    }
  });

  it('with a logger: the diagnostic goes to logger.warn, not to process warnings, without secrets', async () => {
    const logger = captureLogger();
    const gate = createIdgate(optionsFor(strict, { logger, upstream: fast }));
    const warnings = await warningsDuring(async () => {
      await probe(gate);
      await probe(gate);
    });
    expect(warnings).toEqual([]);
    const lines = logger.lines.filter((l) => l.includes('config-diagnostic'));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'warn', code: 'IDGATE_UPSTREAM_REJECTED', msg: 'idgate: the upstream rejected option `apiKey` (401 INVALID_API_KEY)' });
    expect(logger.lines.join('\n')).not.toContain(API_KEY);
    expect(logger.lines.join('\n')).not.toContain(CHECK_IDENTITY_ID);
  });

  it('a 404 on the profile path names the path, IDGATE_UPSTREAM_URL and the paths option', async () => {
    const gate = envGate(mock.url, API_KEY);
    mock.fault({ route: 'profile', status: 404, body: { error: 'NOT_FOUND' } });
    try {
      const warnings = await warningsDuring(async () => {
        await probe(gate);
        await probe(gate);
      });
      expect(warnings).toEqual([
        {
          code: 'IDGATE_UPSTREAM_PATH_NOT_FOUND',
          message: `idgate: the upstream at ${new URL(mock.url).host} answered 404 on /api/v1/contact/profile (profile); check IDGATE_UPSTREAM_URL and the \`paths.profile\` option`,
        },
      ]);
    } finally {
      mock.clearFaults();
    }
  });

  it('connection refused (an unused port) and an unresolvable host each warn once, naming IDGATE_UPSTREAM_URL', async () => {
    const port = await freePort();
    const refused = envGate(`http://127.0.0.1:${port}`, API_KEY);
    expect(await warningsDuring(async () => { await probe(refused); await probe(refused); })).toEqual([
      { code: 'IDGATE_UPSTREAM_CONNECTION_REFUSED', message: `idgate: nothing accepts connections at the upstream 127.0.0.1:${port} (ECONNREFUSED); check IDGATE_UPSTREAM_URL or start the upstream` },
    ]);
    const unresolvable = envGate('http://idgate-no-such-host.invalid', API_KEY);
    const dns = await warningsDuring(async () => { await probe(unresolvable); await probe(unresolvable); });
    expect(dns).toHaveLength(1);
    expect(dns[0]!.code).toBe('IDGATE_UPSTREAM_HOST_NOT_FOUND');
    expect(dns[0]!.message).toMatch(/^idgate: cannot resolve the upstream host idgate-no-such-host\.invalid \((ENOTFOUND|EAI_AGAIN)\); check IDGATE_UPSTREAM_URL$/);
  });

  it('an outage (503) and a wrong password are not configuration problems: no warning', async () => {
    const gate = envGate(mock.url, API_KEY);
    mock.fault({ route: 'profile', status: 503 });
    try {
      const warnings = await warningsDuring(async () => {
        await probe(gate);
        await gate.upstream.login({ email: 'demo@example.com', password: 'wrong' }).catch(() => {});
      });
      expect(warnings).toEqual([]);
    } finally {
      mock.clearFaults();
    }
  });
});

describe('gate.check()', () => {
  let mock: MockUpstream;
  let strict: MockUpstream;
  beforeAll(async () => {
    mock = await startMockUpstream({ port: 0 });
    strict = await startMockUpstream({ port: 0, apiKeys: [OTHER_KEY] });
  });
  afterAll(async () => {
    await mock.close();
    await strict.close();
  });

  it('resolves against a reachable upstream that accepts the key, with one profile call', async () => {
    mock.reset({ only: 'calls' });
    await expect(envGate(mock.url, API_KEY).check()).resolves.toBeUndefined();
    expect(mock.calls()).toMatchObject({ profile: 1, total: 1 });
  });

  it('throws ConfigError with the diagnostic line for a rejected key, a 404 path, a refused port, an unknown host', async () => {
    const rejected = await envGate(strict.url, API_KEY).check().catch((e: unknown) => e);
    expect(rejected).toBeInstanceOf(ConfigError);
    expect((rejected as ConfigError).message).toBe('idgate: the upstream rejected IDGATE_API_KEY (401 INVALID_API_KEY)');

    const wrongPath = await envGate(mock.url, API_KEY, { paths: { profile: '/api/v9/profile' } }).check().catch((e: unknown) => e);
    expect(wrongPath).toBeInstanceOf(ConfigError);
    expect((wrongPath as Error).message).toContain('answered 404 on /api/v9/profile (profile); check IDGATE_UPSTREAM_URL');

    const port = await freePort();
    const refused = await envGate(`http://127.0.0.1:${port}`, API_KEY).check().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as Error).message).toContain('(ECONNREFUSED); check IDGATE_UPSTREAM_URL');

    const unknown = await envGate('http://idgate-no-such-host.invalid', API_KEY).check().catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(ConfigError);
    expect((unknown as Error).message).toMatch(/cannot resolve the upstream host idgate-no-such-host\.invalid/);
    for (const e of [rejected, wrongPath, refused, unknown]) expect((e as Error).message).not.toContain(API_KEY);
  });

  it('an outage is an UpstreamError, not a ConfigError', async () => {
    mock.fault({ route: 'profile', status: 503 });
    try {
      const err = await envGate(mock.url, API_KEY).check().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UpstreamError);
      expect(err).not.toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(/^idgate: the upstream at 127\.0\.0\.1:\d+ gave no usable answer/);
    } finally {
      mock.clearFaults();
    }
  });
});
