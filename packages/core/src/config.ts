import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { httpPolicySchema } from './http.js';
import type { Logger } from './logger.js';
import type { CacheStore } from './store.js';
import type { IdgateEvent } from './events.js';
import { sessionKeys, type SessionKeys } from './session.js';
import { bizkithubFields, createBizkithub } from './bizkithub.js';
import { diagnosticNames } from './diagnostics.js';
import { providerProblem, type IdentityProvider } from './provider.js';

export { API_KEY_PATTERN } from './bizkithub.js';

const fn = <T>(label: string) => z.custom<T>((v) => typeof v === 'function', { message: `expected a function (${label})` });
const pathLike = z.string().regex(/^\/[^\s]*$/, 'expected a path starting with /');

// The object itself is kept (a class instance's methods need their `this`);
// what is wrong with it is reported field by field.
const providerOption = z.custom<IdentityProvider>().superRefine((value, ctx) => {
  const problem = providerProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem[1], path: problem[0] ? [problem[0]] : [] });
});

const schema = z
  .object({
    ...bizkithubFields,
    /**
     * The identity provider (see `IdentityProvider`). Leave it out for the
     * built-in BizKitHub provider, configured by `upstreamUrl`, `apiKey`,
     * `apiKeyIn`, `paths`, `upstream` and `fetch` (and `IDGATE_*`); with it,
     * those options are refused and those variables not read.
     * @default bizkithubProvider(…) from the options above
     */
    provider: providerOption.optional(),
    loginUrl: pathLike.default('/login'),
    afterLoginUrl: pathLike.default('/'),
    afterLogoutUrl: pathLike.default('/'),
    protect: z
      .union([z.array(z.union([pathLike, z.instanceof(RegExp)])), fn<(path: string) => boolean>('protect')])
      .default([]),
    cookie: z
      .object({
        name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected a cookie name of letters, digits, _ or -').default('identityId'),
        hostPrefix: z.boolean().default(false),
        secure: z.union([z.boolean(), z.literal('auto')]).default('auto'),
        sameSite: z.enum(['lax', 'strict']).default('lax'),
        maxAge: z.number().int().positive().default(86_400),
        rolling: z.boolean().default(true),
        renewInterval: z.number().int().positive().default(3_600),
        absoluteLifetime: z.number().int().positive().default(2_592_000),
        acceptUnsignedUntil: z.coerce.date().optional(),
      })
      .strict()
      .prefault({}),
    cache: z
      .object({
        max: z.number().int().positive().default(10_000),
        ttl: z.number().int().positive().default(60_000),
        negativeMax: z.number().int().positive().default(10_000),
        negativeTtl: z.number().int().nonnegative().default(10_000),
        refreshAhead: z.number().min(0).max(1).default(0.5),
        upstreamIdle: z.number().int().positive().default(1_800_000),
        staleIfError: z.number().int().nonnegative().default(300_000),
        tombstoneMax: z.number().int().positive().default(100_000),
        /**
         * Cross-instance single-flight, with a store that supports it
         * (`claim`): the first instance to miss a session takes a lease for
         * `lease.ttl` ms and asks the upstream; the others wait up to
         * `lease.wait` ms for its entry, then ask the upstream themselves
         * (the holder died or is slow). `wait: 0` turns it off.
         * @default { ttl: 5_000, wait: 2_000 }
         */
        lease: z
          .object({
            ttl: z.number().int().positive().default(5_000),
            wait: z.number().int().nonnegative().default(2_000),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    upstream: httpPolicySchema(1_048_576),
    breaker: z
      .object({
        threshold: z.number().int().positive().default(5),
        cooldown: z.number().int().positive().default(5_000),
      })
      .strict()
      .prefault({}),
    /**
     * idgate's own login limiter (see SECURITY.md): failed logins per
     * normalised e-mail and per client IP in a sliding window; past the limit
     * every e-mail, existing or not, gets the same 429 before any upstream
     * call. `false` turns it off. Keep `perEmail` at or below the upstream's
     * own lockout threshold and `window` at or above its window, or the
     * upstream's lockout (real accounts only) fires first and tells accounts apart.
     * @default { perEmail: 5, perIp: 30, window: 900_000, max: 10_000 }
     */
    loginThrottle: z
      .union([
        z.literal(false),
        z
          .object({
            /** Failed logins per e-mail within `window`; `false`: no per-e-mail limit. @default 5 */
            perEmail: z.union([z.number().int().positive(), z.literal(false)]).default(5),
            /**
             * Failed logins per client IP (IPv6: per /64) within `window`, whatever the e-mail;
             * `false`: no per-IP limit. The IP is the framework's (trust proxy). @default 30
             */
            perIp: z.union([z.number().int().positive(), z.literal(false)]).default(30),
            /** Sliding window, ms. @default 900_000 (15 min) */
            window: z.number().int().positive().default(900_000),
            /** In-memory bound: e-mails and IPs tracked (each, LRU). @default 10_000 */
            max: z.number().int().positive().default(10_000),
          })
          .strict(),
      ])
      .prefault({}),
    allowedOrigins: z.array(z.url()).default([]),
    exposeLoginCodes: z.boolean().default(false),
    noStore: z.boolean().default(true),
    retryAfter: z.number().int().positive().default(5),
    // Issue 12: every Retry-After sent to a client is an integer in [1, retryAfterCap] seconds.
    retryAfterCap: z.number().int().positive().default(3_600),
    // Issue 12: request bodies idgate's handlers accept, in bytes, the same on every adapter.
    bodyLimit: z
      .object({
        login: z.number().int().positive().default(16_384),
        endpoint: z.number().int().positive().default(65_536),
      })
      .strict()
      .prefault({}),
    secret: z
      .union([z.string().min(16, 'expected at least 16 characters'), z.array(z.string().min(16, 'expected at least 16 characters')).min(1, 'expected at least one secret')])
      .optional(),
    environment: z.enum(['development', 'production', 'test']).optional(),
    logger: z.custom<Logger>((v) => typeof v === 'object' && v !== null, { message: 'expected a pino-compatible logger' }).optional(),
    onEvent: fn<(event: IdgateEvent) => void>('onEvent').optional(),
    store: z.custom<CacheStore>((v) => typeof v === 'object' && v !== null, { message: 'expected a CacheStore' }).optional(),
    fetch: fn<typeof fetch>('fetch').optional(),
    now: fn<() => number>('now').optional(),
  })
  .strict();

// With `provider`, the built-in provider's settings are not required (and refused when given).
const providerSchema = schema.extend({ upstreamUrl: bizkithubFields.upstreamUrl.optional(), apiKey: bizkithubFields.apiKey.optional() });

// The top-level options that configure the built-in BizKitHub provider, and their names in bizkithubProvider().
const BIZKITHUB_OPTIONS: Record<string, string> = { upstreamUrl: 'upstreamUrl', apiKey: 'apiKey', apiKeyIn: 'apiKeyIn', paths: 'paths', upstream: 'http', fetch: 'fetch' };

/**
 * Options accepted by `createIdgate()` and every adapter's `identityMiddleware()`.
 * Anything left out is read from `IDGATE_*` environment variables, then defaults.
 */
export type IdgateOptions = Omit<z.input<typeof schema>, 'upstreamUrl' | 'apiKey' | 'provider'> & {
  /** Base URL of the BizKitHub identity API. Env: `IDGATE_UPSTREAM_URL`. Required unless `provider` is given (then refused). */
  upstreamUrl?: string;
  /** BizKitHub API key, `^(PROD|DEV_|ROOT)[A-Za-z0-9]{28}$`. Env: `IDGATE_API_KEY`. Required unless `provider` is given (then refused). */
  apiKey?: string;
  /**
   * Another identity provider than the built-in BizKitHub one (see
   * `IdentityProvider`, `bizkithubProvider`). With it, `upstreamUrl`,
   * `apiKey`, `apiKeyIn`, `paths`, `upstream` and `fetch` are refused (they
   * configure the built-in provider) and their `IDGATE_*` variables not read.
   */
  provider?: IdentityProvider;
};

/** Options after validation and defaults; frozen. */
export type IdgateConfig = Readonly<Omit<z.output<typeof schema>, 'secret' | 'upstreamUrl' | 'apiKey' | 'provider'>> & {
  /** The identity provider: the `provider` option, or the built-in BizKitHub one. */
  readonly provider: IdentityProvider;
  /** The built-in BizKitHub provider's base URL; undefined with the `provider` option. */
  readonly upstreamUrl: string | undefined;
  /** The built-in BizKitHub provider's API key; undefined with the `provider` option. */
  readonly apiKey: string | undefined;
  /** The newest secret: signs cookies, keys hashes. */
  readonly secret: string;
  /** Every accepted secret, newest first (rotation). */
  readonly secrets: readonly string[];
  /** Keys derived from `secrets` once: cookie MACs and store encryption. */
  readonly keys: SessionKeys;
  readonly environment: 'development' | 'production' | 'test';
  readonly cookieName: string;
};

const ENV: Record<string, (v: string) => [string, unknown]> = {
  IDGATE_UPSTREAM_URL: (v) => ['upstreamUrl', v],
  IDGATE_API_KEY: (v) => ['apiKey', v],
  IDGATE_API_KEY_IN: (v) => ['apiKeyIn', v],
  IDGATE_LOGIN_URL: (v) => ['loginUrl', v],
  IDGATE_SECRET: (v) => ['secret', v],
  IDGATE_EXPOSE_LOGIN_CODES: (v) => ['exposeLoginCodes', v === 'true' || v === '1'],
};

function fromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, map] of Object.entries(ENV)) {
    const raw = env[name];
    if (raw !== undefined && raw !== '') {
      const [key, value] = map(raw);
      out[key] = value;
    }
  }
  const cookie: Record<string, unknown> = {};
  if (env.IDGATE_COOKIE_NAME) cookie.name = env.IDGATE_COOKIE_NAME;
  if (env.IDGATE_ACCEPT_UNSIGNED_UNTIL) cookie.acceptUnsignedUntil = env.IDGATE_ACCEPT_UNSIGNED_UNTIL;
  if (env.IDGATE_COOKIE_SECURE) cookie.secure = env.IDGATE_COOKIE_SECURE === 'auto' ? 'auto' : env.IDGATE_COOKIE_SECURE === 'true';
  if (Object.keys(cookie).length > 0) out.cookie = cookie;
  const cache: Record<string, unknown> = {};
  if (env.IDGATE_CACHE_TTL_MS) cache.ttl = Number(env.IDGATE_CACHE_TTL_MS);
  if (env.IDGATE_CACHE_MAX) cache.max = Number(env.IDGATE_CACHE_MAX);
  if (Object.keys(cache).length > 0) out.cache = cache;
  // Rotation: the new secret in IDGATE_SECRET, the ones still accepted in IDGATE_PREVIOUS_SECRETS (comma-separated).
  const previous = (env.IDGATE_PREVIOUS_SECRETS ?? '').split(',').map((v) => v.trim()).filter(Boolean);
  if (previous.length > 0 && typeof out.secret === 'string') out.secret = [out.secret, ...previous];
  return out;
}

const ENV_NAME: Record<string, string> = Object.fromEntries(
  Object.entries(ENV).map(([name, map]) => [map('x')[0], name]),
);

/**
 * Validate options once, at start-up. Missing options come from `IDGATE_*`
 * environment variables; a bad value throws one `ConfigError` naming the field.
 * @example
 * const config = resolveConfig({ upstreamUrl: 'http://127.0.0.1:4010', apiKey: process.env.KEY });
 */
export function resolveConfig(options: IdgateOptions = {}, env: NodeJS.ProcessEnv = process.env): IdgateConfig {
  const given = (options ?? {}) as Record<string, unknown>;
  const withProvider = given.provider !== undefined;
  if (withProvider) {
    for (const [key, instead] of Object.entries(BIZKITHUB_OPTIONS)) {
      if (given[key] !== undefined) {
        throw new ConfigError(
          `idgate: options \`provider\` and \`${key}\` conflict: \`${key}\` configures the built-in BizKitHub provider, which \`provider\` replaces (pass it as bizkithubProvider({ ${instead} }), or leave \`provider\` out)`,
        );
      }
    }
  }
  const envOptions = fromEnv(env);
  // With another provider, the built-in one's variables mean nothing: not read.
  if (withProvider) for (const key of Object.keys(BIZKITHUB_OPTIONS)) delete envOptions[key];
  const merged: Record<string, unknown> = { ...envOptions, ...given };
  for (const key of ['cookie', 'cache'] as const) {
    if (envOptions[key] && given[key]) {
      merged[key] = { ...(envOptions[key] as object), ...(given[key] as object) };
    }
  }
  const parsed = (withProvider ? providerSchema : schema).safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join('.') || '(options)';
    const envName = ENV_NAME[field];
    const fromEnv = envName !== undefined && !(field in ((options ?? {}) as object));
    // zod 4 leaves the input out of issues; look the value up to tell "missing" from "wrong".
    const given = issue.path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k as PropertyKey] : undefined), merged);
    if (issue.code === 'invalid_type' && given === undefined) {
      throw new ConfigError(`idgate: option \`${field}\` is required${envName ? ` (pass it or set ${envName})` : ''}`);
    }
    throw new ConfigError(`idgate: option \`${field}\`${fromEnv ? ` (from ${envName})` : ''} ${issue.message}`);
  }
  const c = parsed.data;
  const environment = c.environment ?? (env.NODE_ENV === 'production' ? 'production' : env.NODE_ENV === 'test' ? 'test' : 'development');
  if (c.cookie.hostPrefix && c.cookie.secure === false) {
    throw new ConfigError('idgate: option `cookie.secure` cannot be false with `cookie.hostPrefix` (the __Host- prefix requires Secure)');
  }
  if (c.secret === undefined && environment === 'production') {
    throw new ConfigError('idgate: option `secret` is required in production (pass it or set IDGATE_SECRET): session cookies are signed with it, and a random one would sign everybody out on every restart');
  }
  // A per-process random key still signs and hashes consistently within one
  // instance (development); instances that share a store need the same `secret`.
  const secrets = c.secret === undefined ? [randomBytes(32).toString('hex')] : typeof c.secret === 'string' ? [c.secret] : [...c.secret];
  const provider =
    c.provider ??
    createBizkithub(
      { upstreamUrl: c.upstreamUrl!, apiKey: c.apiKey!, apiKeyIn: c.apiKeyIn, paths: c.paths, http: c.upstream, fetch: c.fetch },
      diagnosticNames(options, { upstreamUrl: c.upstreamUrl!, paths: c.paths }),
    );
  return Object.freeze({
    ...c,
    provider,
    upstreamUrl: c.upstreamUrl,
    apiKey: c.apiKey,
    secret: secrets[0]!,
    secrets: Object.freeze(secrets),
    keys: sessionKeys(secrets),
    environment,
    cookieName: c.cookie.hostPrefix ? `__Host-${c.cookie.name}` : c.cookie.name,
  });
}
