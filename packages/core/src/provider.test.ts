import { describe, expect, it } from 'vitest';
import { resolveConfig } from './config.js';
import { ConfigError, LoginError, RequestError, UpstreamError } from './errors.js';
import type { IdgateEvent } from './events.js';
import { isIdentityId } from './normalize.js';
import { isOpaqueToken, providerClient, providerProblem, type IdentityProvider, type ProfileResult } from './provider.js';
import { openSession, sessionKeys, signSession } from './session.js';
import { bizkithubProvider } from './bizkithub.js';

const TOKEN = 'tok_' + 'A'.repeat(39); // 43 characters, base64url
const breaker = { threshold: 3, cooldown: 60_000 };
const valid: ProfileResult = { kind: 'valid', profile: { id: 'u1', email: 'Ann@Example.com ', attributes: { plan: 'pro' } } };

/** An in-process provider whose answers a test scripts; it counts its calls. */
function scripted(overrides: Partial<IdentityProvider> = {}): IdentityProvider & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    name: 'scripted',
    async login(input) {
      calls.push(`login ${input.email}`);
      return TOKEN;
    },
    async verify(token) {
      calls.push(`verify ${token}`);
      return valid;
    },
    async logout(token) {
      calls.push(`logout ${token}`);
    },
    ...overrides,
  };
}

const caught = (p: Promise<unknown>) => p.then(() => undefined, (err: unknown) => err);

describe('core wraps a provider', () => {
  it('a plain Error becomes an outage (UPSTREAM_UNAVAILABLE) whose message holds neither the token nor the original text', async () => {
    const provider = scripted({
      verify: async (token) => {
        throw new Error(`cannot verify ${token}`);
      },
    });
    const err = await caught(providerClient(provider, { breaker }).profile(TOKEN));
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', outage: true, status: 503 });
    expect((err as Error).message).toBe('scripted verify: the provider failed (Error)');
    expect((err as Error).message).not.toContain(TOKEN);
  });

  it('a thrown non-Error (a string) and a synchronous throw are wrapped the same way', async () => {
    const sync = scripted({
      verify: ((token: string) => {
        throw token;
      }) as IdentityProvider['verify'],
    });
    const err = await caught(providerClient(sync, { breaker }).profile(TOKEN));
    expect(err).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', outage: true });
    expect((err as Error).message).not.toContain(TOKEN);
  });

  it('a call that never settles ends at the provider timeout as UPSTREAM_TIMEOUT, and its signal aborts', async () => {
    let seen: AbortSignal | undefined;
    const provider = scripted({
      timeout: 50,
      verify: (_token, signal) => {
        seen = signal;
        return new Promise<never>(() => {});
      },
    });
    const err = await caught(providerClient(provider, { breaker }).profile(TOKEN));
    expect(err).toMatchObject({ code: 'UPSTREAM_TIMEOUT', outage: true });
    expect(seen?.aborted).toBe(true);
  });

  it('the breaker opens after `threshold` outages and then fails fast without calling the provider', async () => {
    const provider = scripted({
      verify: async () => {
        provider.calls.push('verify');
        throw new UpstreamError('UPSTREAM_UNAVAILABLE', 'verify: upstream answered 503');
      },
    });
    const client = providerClient(provider, { breaker });
    for (let i = 0; i < 3; i++) await caught(client.profile(TOKEN));
    expect(client.circuit()).toBe('open');
    const err = await caught(client.profile(TOKEN));
    expect(err).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', message: 'upstream circuit open: failing fast' });
    expect(provider.calls).toHaveLength(3);
  });

  it('plain Errors count as outages for the breaker; definitive refusals do not', async () => {
    const refusing = scripted({
      verify: async () => {
        throw new UpstreamError('UPSTREAM_REFUSED', 'verify: upstream answered 409', { upstreamStatus: 409 });
      },
    });
    const a = providerClient(refusing, { breaker });
    for (let i = 0; i < 5; i++) expect(await caught(a.profile(TOKEN))).toMatchObject({ outage: false });
    expect(a.circuit()).toBe('closed');
    const throwing = scripted({
      verify: async () => {
        throw new TypeError('fetch failed');
      },
    });
    const b = providerClient(throwing, { breaker });
    for (let i = 0; i < 3; i++) await caught(b.profile(TOKEN));
    expect(b.circuit()).toBe('open');
  });

  it('checks verify answers: the profile is copied with a trimmed, lowercased e-mail; anything else is UPSTREAM_BAD_RESPONSE', async () => {
    const client = providerClient(scripted(), { breaker });
    expect(await client.profile(TOKEN)).toEqual({ kind: 'valid', profile: { id: 'u1', email: 'ann@example.com', name: undefined, attributes: { plan: 'pro' } } });
    const junk: unknown[] = [
      undefined,
      'valid',
      { kind: 'ok' },
      { kind: 'valid' },
      { kind: 'valid', profile: { id: 7, email: 'a@b.c' } },
      { kind: 'valid', profile: { id: 'u', email: '  ' } },
      { kind: 'valid', profile: { id: 'u', email: 'a@b.c', attributes: [] } },
      { kind: 'valid', profile: { id: 'u', email: 'a@b.c', name: 5 } },
    ];
    for (const answer of junk) {
      const odd = providerClient(scripted({ verify: async () => answer as ProfileResult }), { breaker: { threshold: 100, cooldown: 1 } });
      expect(await caught(odd.profile(TOKEN))).toMatchObject({ code: 'UPSTREAM_BAD_RESPONSE', outage: true });
    }
    const ended = providerClient(scripted({ verify: async () => ({ kind: 'expired' }) }), { breaker });
    expect(await ended.profile(TOKEN)).toEqual({ kind: 'expired' });
  });

  it('login: the e-mail is canonicalised before the call, a bad one never reaches the provider', async () => {
    const provider = scripted();
    const client = providerClient(provider, { breaker });
    expect(await client.login({ email: '  Ann@Example.COM ', password: 'pw' })).toBe(TOKEN);
    expect(provider.calls).toEqual(['login ann@example.com']);
    expect(await caught(client.login({ email: 'not an e-mail', password: 'pw' }))).toBeInstanceOf(RequestError);
    expect(provider.calls).toHaveLength(1);
    // ... even while the circuit is open: a bad e-mail is the client's 400, not a 503.
    const down = providerClient(scripted({ verify: async () => Promise.reject(new TypeError('fetch failed')) }), { breaker: { threshold: 1, cooldown: 60_000 } });
    await caught(down.profile(TOKEN));
    expect(down.circuit()).toBe('open');
    expect(await caught(down.login({ email: 'not an e-mail', password: 'pw' }))).toBeInstanceOf(RequestError);
    expect(await caught(down.login({ email: 'a@example.com', password: 'pw' }))).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
  });

  it('login: an empty or over-long password is INVALID_CREDENTIALS (401) and a bad client IP a 400, before any call and while the circuit is open', async () => {
    const provider = scripted({ verify: async () => Promise.reject(new TypeError('fetch failed')) });
    const client = providerClient(provider, { breaker: { threshold: 1, cooldown: 60_000 } });
    for (const open of [false, true]) {
      if (open) await caught(client.profile(TOKEN));
      expect(client.circuit()).toBe(open ? 'open' : 'closed');
      for (const password of ['', 'x'.repeat(1025), 42 as unknown as string]) {
        expect(await caught(client.login({ email: 'a@example.com', password }))).toMatchObject({ code: 'INVALID_CREDENTIALS', status: 401 });
      }
      expect(await caught(client.login({ email: 'a@example.com', password: 'pw', customerRealIp: 'not-an-ip' }))).toMatchObject({ code: 'BAD_REQUEST' });
    }
    expect(provider.calls.filter((c) => c.startsWith('login'))).toEqual([]);
    // The longest accepted password reaches the provider; its IP arrives normalised.
    const seen: unknown[] = [];
    const ok = providerClient(scripted({ login: async (input) => (seen.push(input.customerRealIp), TOKEN) }), { breaker });
    expect(await ok.login({ email: 'a@example.com', password: 'x'.repeat(1024), customerRealIp: '::ffff:10.0.0.1' })).toBe(TOKEN);
    expect(seen).toEqual(['10.0.0.1']);
  });

  it('login: a token outside the grammar, or outside the cookie grammar whatever isToken says, is UPSTREAM_BAD_RESPONSE', async () => {
    for (const token of ['a.b', '', 'x'.repeat(257), 'has space', 42]) {
      const client = providerClient(scripted({ login: async () => token as string }), { breaker: { threshold: 100, cooldown: 1 } });
      expect(await caught(client.login({ email: 'a@example.com', password: 'pw' }))).toMatchObject({ code: 'UPSTREAM_BAD_RESPONSE' });
    }
    // A lax grammar still never puts ';', '.', ',' or more than 1024 characters into the cookie.
    const lax = { isToken: () => true };
    for (const token of ['a;b', 'a.b', 'a,b', 'x'.repeat(1025)]) {
      const client = providerClient(scripted({ ...lax, login: async () => token }), { breaker: { threshold: 100, cooldown: 1 } });
      expect(await caught(client.login({ email: 'a@example.com', password: 'pw' }))).toMatchObject({ code: 'UPSTREAM_BAD_RESPONSE' });
    }
    const own = providerClient(scripted({ ...lax, login: async () => 'x'.repeat(1024) }), { breaker });
    expect(await own.login({ email: 'a@example.com', password: 'pw' })).toHaveLength(1024);
  });

  it("login: refusals keep core's codes with their status; a LoginError with another code is UPSTREAM_REFUSED; a plain Error is an outage", async () => {
    const refuse = (err: unknown) => providerClient(scripted({ login: async () => Promise.reject(err) }), { breaker });
    const wrongStatus = new LoginError('ACCOUNT_BANNED', 'banned', { status: 500 });
    expect(await caught(refuse(wrongStatus).login({ email: 'a@example.com', password: 'pw' }))).toMatchObject({ code: 'ACCOUNT_BANNED', status: 403 });
    const ok = new LoginError('INVALID_CREDENTIALS', 'Wrong e-mail or password.', { status: 401 });
    expect(await caught(refuse(ok).login({ email: 'a@example.com', password: 'pw' }))).toBe(ok);
    const odd = new LoginError('CONFIG_INVALID', 'nope', { status: 500 });
    expect(await caught(refuse(odd).login({ email: 'a@example.com', password: 'pw' }))).toMatchObject({ code: 'UPSTREAM_REFUSED', outage: false, status: 502 });
    expect(await caught(refuse(new Error('password=hunter2')).login({ email: 'a@example.com', password: 'hunter2' }))).toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      outage: true,
      message: 'scripted login: the provider failed (Error)',
    });
  });

  it('every call is an upstream-call event: ok, rejected (a refusal) or error', async () => {
    const events: IdgateEvent[] = [];
    const provider = scripted({ login: async () => Promise.reject(new LoginError('INVALID_CREDENTIALS', 'no', { status: 401 })) });
    const client = providerClient(provider, { breaker, emit: (e) => events.push(e) });
    await client.profile(TOKEN);
    await caught(client.login({ email: 'a@example.com', password: 'pw' }));
    await client.logout(TOKEN);
    const calls = events.filter((e) => e.type === 'upstream-call').map((e) => e.type === 'upstream-call' && [e.operation, e.outcome, e.code, e.provider]);
    expect(calls).toEqual([
      ['verify', 'ok', undefined, 'scripted'],
      ['login', 'rejected', 'INVALID_CREDENTIALS', 'scripted'],
      ['logout', 'ok', undefined, 'scripted'],
    ]);
  });

  it('configuration-class failures are diagnosed naming the provider; check() is one, as ConfigError', async () => {
    const reported: string[] = [];
    const rejected = new UpstreamError('UPSTREAM_REJECTED', 'verify: upstream refused our credentials (401)', { upstreamStatus: 401, upstreamCode: 'BAD_KEY' });
    const provider = scripted({ verify: async () => Promise.reject(rejected), check: async () => Promise.reject(rejected) });
    const client = providerClient(provider, { breaker, diagnostics: { report: (d) => (reported.push(d.message), true) } });
    await caught(client.profile(TOKEN));
    expect(reported).toEqual(['idgate: the upstream rejected the credentials of provider "scripted" (401 BAD_KEY)']);
    const err = await caught(client.check());
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe('idgate: the upstream rejected the credentials of provider "scripted" (401 BAD_KEY)');
  });

  it('check(): absent resolves without a call; an outage is UpstreamError naming the provider', async () => {
    const quiet = scripted();
    await expect(providerClient(quiet, { breaker }).check()).resolves.toBeUndefined();
    expect(quiet.calls).toEqual([]);
    const down = scripted({ check: async () => Promise.reject(new TypeError('fetch failed')) });
    const err = await caught(providerClient(down, { breaker }).check());
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as Error).message).toMatch(/^idgate: the upstream at provider "scripted" gave no usable answer \(scripted check: the provider failed \(TypeError\)\); check the settings of provider "scripted"$/);
  });

  it('the token grammar: the provider’s own (never throwing), else isOpaqueToken; BizKitHub’s is isIdentityId itself', () => {
    expect(providerClient(scripted(), { breaker }).isToken).toBe(isOpaqueToken);
    const strict = providerClient(scripted({ isToken: (v) => /^[A-Za-z0-9_-]{43}$/.test(v) }), { breaker });
    expect(strict.isToken(TOKEN)).toBe(true);
    expect(strict.isToken('short')).toBe(false);
    const throwing = providerClient(scripted({ isToken: () => { throw new Error('x'); } }), { breaker });
    expect(throwing.isToken(TOKEN)).toBe(false);
    const bizkithub = bizkithubProvider({ upstreamUrl: 'http://127.0.0.1:1', apiKey: 'DEV_' + 'a'.repeat(28) });
    expect(providerClient(bizkithub, { breaker }).isToken).toBe(isIdentityId);
  });

  it('a provider that is not one fails at start-up naming the field', () => {
    expect(providerProblem(scripted())).toBeUndefined();
    expect(providerProblem(null)?.[1]).toMatch(/IdentityProvider/);
    expect(providerProblem({ ...scripted(), name: 'has space' })?.[0]).toBe('name');
    expect(providerProblem({ ...scripted(), verify: undefined })?.[0]).toBe('verify');
    expect(providerProblem({ ...scripted(), isToken: /x/ })?.[0]).toBe('isToken');
    expect(providerProblem({ ...scripted(), timeout: 0 })?.[0]).toBe('timeout');
    expect(() => providerClient({ name: 'x' } as never, { breaker })).toThrow('idgate: option `provider.login` expected a function');
  });

  it('isOpaqueToken: 1 to 256 of A-Z a-z 0-9 _ -', () => {
    for (const ok of ['a', TOKEN, '0-_', 'x'.repeat(256)]) expect(isOpaqueToken(ok)).toBe(true);
    for (const no of ['', 'a.b', 'a b', 'é', 'x'.repeat(257), 'a=', undefined, 5]) expect(isOpaqueToken(no)).toBe(false);
  });
});

describe('the signed cookie carries the provider’s token', () => {
  const keys = sessionKeys(['a-secret-of-sixteen-plus-chars']);
  const at = 1_700_000_000_000;
  const grammar = (v: string) => /^[A-Za-z0-9_-]{43}$/.test(v);

  it('round trip with another grammar; a token the grammar refuses is refused even under a valid MAC', () => {
    const value = signSession(keys, TOKEN, at);
    expect(value.split('.')).toHaveLength(3);
    expect(openSession(keys, value, false, grammar)).toEqual({ id: TOKEN, issuedAt: at, signed: true });
    expect(openSession(keys, signSession(keys, 'short', at), false, grammar)).toBeUndefined();
    // the same value under BizKitHub's default grammar: not a 32-character identityId
    expect(openSession(keys, value, false)).toBeUndefined();
  });

  it('tampering, a fourth part, a bad stamp or a bare token outside the legacy window are refused', () => {
    const value = signSession(keys, TOKEN, at);
    const tag = value.slice(-22);
    expect(openSession(keys, `${TOKEN}.${value.split('.')[1]}.${tag.slice(0, -1)}${tag.endsWith('A') ? 'B' : 'A'}`, false, grammar)).toBeUndefined();
    expect(openSession(keys, `x.${value}`, false, grammar)).toBeUndefined();
    expect(openSession(keys, `${TOKEN}.${'1'.repeat(10)}.${tag}`, false, grammar)).toBeUndefined();
    expect(openSession(keys, `${TOKEN}.Z.${tag}`, false, grammar)).toBeUndefined();
    expect(openSession(keys, TOKEN, false, grammar)).toBeUndefined();
    expect(openSession(keys, TOKEN, true, grammar)).toEqual({ id: TOKEN, issuedAt: Number.NaN, signed: false });
  });

  it('BizKitHub’s cookie is unchanged: `<32 alphanumerics>.<base36 seconds>.<22-char tag>`, legacy bare ids in the window only', () => {
    const id = 'Z9CPkS2o3UV163VQn5OUv0T8BQi8Fvdg';
    const value = signSession(keys, id, at);
    expect(value).toMatch(new RegExp(`^${id}\\.${Math.floor(at / 1000).toString(36)}\\.[A-Za-z0-9_-]{22}$`));
    expect(openSession(keys, value, false)).toEqual({ id, issuedAt: at, signed: true });
    expect(openSession(keys, id, true)).toEqual({ id, issuedAt: Number.NaN, signed: false });
    expect(openSession(keys, id, false)).toBeUndefined();
    expect(openSession(keys, signSession(keys, TOKEN, at), false)).toBeUndefined();
  });
});

describe('the provider option', () => {
  const key = 'PROD' + 'A'.repeat(28);
  const provider = scripted();

  it.each([
    ['upstreamUrl', 'http://x.example', 'upstreamUrl'],
    ['apiKey', key, 'apiKey'],
    ['apiKeyIn', 'query', 'apiKeyIn'],
    ['paths', { login: '/in' }, 'paths'],
    ['upstream', { timeout: 100 }, 'http'],
    ['fetch', fetch, 'fetch'],
  ])('`provider` with `%s` is a ConfigError naming the conflict', (option, value, instead) => {
    const run = () => resolveConfig({ provider, [option]: value } as never, {});
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(`idgate: options \`provider\` and \`${option}\` conflict: \`${option}\` configures the built-in BizKitHub provider, which \`provider\` replaces (pass it as bizkithubProvider({ ${instead} }), or leave \`provider\` out)`);
  });

  it('with `provider`, the BizKitHub options are not required and their variables are not read (even when invalid)', () => {
    const config = resolveConfig({ provider }, { IDGATE_UPSTREAM_URL: 'ftp://nope', IDGATE_API_KEY: 'bad', IDGATE_API_KEY_IN: 'cookie', IDGATE_LOGIN_URL: '/signin' });
    expect(config.provider).toBe(provider);
    expect(config.upstreamUrl).toBeUndefined();
    expect(config.apiKey).toBeUndefined();
    expect(config.loginUrl).toBe('/signin');
  });

  it('without `provider`, the BizKitHub options stay required, and the config holds the built-in provider', () => {
    expect(() => resolveConfig({}, {})).toThrow(/^idgate: option `upstreamUrl` is required \(pass it or set IDGATE_UPSTREAM_URL\)$/);
    expect(() => resolveConfig({ upstreamUrl: 'http://x.example' }, {})).toThrow(/^idgate: option `apiKey` is required \(pass it or set IDGATE_API_KEY\)$/);
    const config = resolveConfig({ upstreamUrl: 'http://x.example', apiKey: key }, {});
    expect(config.provider.name).toBe('bizkithub');
    expect(config.provider.isToken).toBe(isIdentityId);
  });

  it('a provider that is not one is a ConfigError naming the field', () => {
    expect(() => resolveConfig({ provider: { name: 'x', login: () => {}, verify: () => {} } } as never, {})).toThrow('idgate: option `provider.logout` expected a function');
    expect(() => resolveConfig({ provider: 'bizkithub' } as never, {})).toThrow(/option `provider` expected an IdentityProvider/);
  });

  it('a class instance is kept as given, so its methods keep their `this`', () => {
    class Sessions implements IdentityProvider {
      readonly name = 'sessions';
      readonly base = 'http://127.0.0.1:1';
      async login() { return this.base.length > 0 ? TOKEN : ''; }
      async verify(): Promise<ProfileResult> { return { kind: 'invalid' }; }
      async logout() {}
    }
    const instance = new Sessions();
    expect(resolveConfig({ provider: instance }, {}).provider).toBe(instance);
  });

  it('bizkithubProvider validates its own options, naming them', () => {
    expect(() => bizkithubProvider({ upstreamUrl: 'http://x.example', apiKey: 'nope' })).toThrow('idgate: bizkithubProvider option `apiKey` expected ^(PROD|DEV_|ROOT)[A-Za-z0-9]{28}$');
    expect(() => bizkithubProvider({ upstreamUrl: 'http://x.example', apiKey: key, http: { retries: 99 } })).toThrow(/bizkithubProvider option `http.retries`/);
    expect(bizkithubProvider({ upstreamUrl: 'http://x.example', apiKey: key }).name).toBe('bizkithub');
  });
});
