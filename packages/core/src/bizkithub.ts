// The built-in identity provider: BizKitHub's customer login API (seeds/).
// Everything specific to it lives here: the key format and where it goes,
// the paths, the E-codes, the response shapes, the HTTP policy. Core wraps it
// like any other provider (provider.ts).
import { z } from 'zod';
import { ConfigError, LoginError, UpstreamError, type UpstreamLoginCode } from './errors.js';
import { httpPolicySchema, parseRetryAfter, requestJson, type HttpPolicy, type JsonResponse } from './http.js';
import { isIdentityId, normalizeIp } from './normalize.js';
import { CHECK_IDENTITY_ID, DIAGNOSTIC_NAMES, type DiagnosticNames } from './diagnostics.js';
import type { IdentityProvider, ProfileResult } from './provider.js';

/** BizKitHub's API key format (customer login API): `PROD`, `DEV_` or `ROOT` and 28 alphanumerics. */
export const API_KEY_PATTERN = /^(PROD|DEV_|ROOT)[A-Za-z0-9]{28}$/;

const pathLike = z.string().regex(/^\/[^\s]*$/, 'expected a path starting with /');

/** The zod fields of BizKitHub's settings, shared by `bizkithubProvider` and core's top-level options. */
export const bizkithubFields = {
  upstreamUrl: z.url({ protocol: /^https?$/, message: 'expected an http(s) URL' }),
  apiKey: z.string().regex(API_KEY_PATTERN, 'expected ^(PROD|DEV_|ROOT)[A-Za-z0-9]{28}$'),
  apiKeyIn: z.enum(['header', 'query']).default('header'),
  paths: z
    .object({
      login: pathLike.default('/api/v1/customer/login'),
      profile: pathLike.default('/api/v1/contact/profile'),
      logout: pathLike.default('/api/v1/contact/logout'),
    })
    .strict()
    .prefault({}),
};

const optionsSchema = z
  .object({
    ...bizkithubFields,
    http: httpPolicySchema(1_048_576),
    fetch: z.custom<typeof fetch>((v) => typeof v === 'function', { message: 'expected a function (fetch)' }).optional(),
  })
  .strict();

/** Options of `bizkithubProvider`: the settings that were core's top-level `upstreamUrl`, `apiKey`, `apiKeyIn`, `paths`, `upstream` and `fetch`. */
export interface BizkithubProviderOptions {
  /** Base URL of the BizKitHub-compatible identity API (http or https). */
  upstreamUrl: string;
  /** API key, `^(PROD|DEV_|ROOT)[A-Za-z0-9]{28}$`; never appears in an error message. */
  apiKey: string;
  /** Where the key goes besides the body: a Bearer header, or `?apiKey=`. @default 'header' */
  apiKeyIn?: 'header' | 'query' | undefined;
  /** The three calls' paths. @default { login: '/api/v1/customer/login', profile: '/api/v1/contact/profile', logout: '/api/v1/contact/logout' } */
  paths?: { login?: string; profile?: string; logout?: string } | undefined;
  /** Timeouts, retries and byte cap of each call (top-level option `upstream`). @default { timeout: 3_000, totalTimeout: 8_000, retries: 2, backoffBase: 100, backoffMax: 2_000, retryAfterMax: 5_000, maxBodyBytes: 1_048_576 } */
  http?: Partial<HttpPolicy> | undefined;
  /** The `fetch` to call the API with (tests). @default globalThis.fetch */
  fetch?: typeof fetch | undefined;
}

/** BizKitHub's settings after validation and defaults. */
export interface BizkithubSettings {
  readonly upstreamUrl: string;
  readonly apiKey: string;
  readonly apiKeyIn: 'header' | 'query';
  readonly paths: Readonly<Record<'login' | 'profile' | 'logout', string>>;
  readonly http: HttpPolicy;
  readonly fetch?: typeof fetch | undefined;
}

const profileOk = z.object({
  success: z.literal(true).optional(),
  contact: z.looseObject({
    id: z.union([z.string().min(1), z.number()]).transform(String),
    email: z.string().min(3),
    name: z.string().optional().nullable(),
  }),
});
const sessionError = z.object({ error: z.enum(['SESSION_EXPIRED', 'INVALID_IDENTITY']) });
const loginOk = z.object({ success: z.literal(true), identityId: z.string() });
const loginFailed = z.object({
  success: z.literal(false).optional(),
  error: z.enum(['E001', 'E002', 'E003', 'E004', 'E005', 'E006', 'E007']),
  message: z.string().optional(),
});

/** The login API's documented messages (E001–E007), also used when the upstream sends none. */
export const LOGIN_MESSAGES: Record<UpstreamLoginCode, string> = {
  E001: 'Customer login failed.',
  E002: 'Customer e-mail does not exist.',
  E003: 'Customer have not a registered account.',
  E004: 'Wrong e-mail or password.',
  E005: 'Customer account has been banned.',
  E006: 'Too many login attempts.',
  E007: 'Customer mail has not been authorized.',
};

const LOGIN_ERRORS = {
  E001: ['LOGIN_FAILED', 401],
  E002: ['UNKNOWN_EMAIL', 401],
  E003: ['NO_ACCOUNT', 401],
  E004: ['INVALID_CREDENTIALS', 401],
  E005: ['ACCOUNT_BANNED', 403],
  E006: ['TOO_MANY_ATTEMPTS', 429],
  E007: ['EMAIL_NOT_VERIFIED', 403],
} as const;

/**
 * The typed `LoginError` for a BizKitHub E-code.
 * @example throw loginErrorFor('E004'); // INVALID_CREDENTIALS, 401
 */
export function loginErrorFor(code: UpstreamLoginCode, retryAfter?: number): LoginError {
  const [errorCode, status] = LOGIN_ERRORS[code];
  return new LoginError(errorCode, LOGIN_MESSAGES[code], { status, upstreamCode: code, ...(retryAfter === undefined ? {} : { retryAfter }) });
}

// The upstream's `error` (or `code`) word, for operators' diagnostics; anything
// longer or stranger is left out, so no echoed input reaches a log line.
const bodyCode = (body: unknown): string | undefined => {
  if (body === null || typeof body !== 'object') return undefined;
  const { error, code } = body as { error?: unknown; code?: unknown };
  const word = typeof error === 'string' ? error : typeof code === 'string' ? code : undefined;
  return word !== undefined && /^[A-Za-z0-9_.-]{1,64}$/.test(word) ? word : undefined;
};

const bad = (label: string, status: number) =>
  new UpstreamError('UPSTREAM_BAD_RESPONSE', `${label}: upstream answered ${status} with an unexpected body`, { upstreamStatus: status });

/**
 * The built-in identity provider: BizKitHub's customer login API. The API
 * key goes in a Bearer header (or `?apiKey=` with `apiKeyIn: 'query'`) and in
 * the body where BizKitHub's identityId guide puts it; it never appears in an
 * error message. `createIdgate()` without `provider` builds this one from the
 * top-level options (`upstreamUrl`, `apiKey`, `apiKeyIn`, `paths`, `upstream`,
 * `fetch`) and `IDGATE_*` variables; build it yourself to set its options
 * next to other providers'. Options are validated here, once: a bad one
 * throws `ConfigError` naming it.
 * @example
 * const gate = createIdgate({ provider: bizkithubProvider({ upstreamUrl: 'https://api.example', apiKey: process.env.BIZKITHUB_KEY! }) });
 */
export function bizkithubProvider(options: BizkithubProviderOptions): IdentityProvider {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join('.') || '(options)';
    throw new ConfigError(`idgate: bizkithubProvider option \`${field}\` ${issue.message}`);
  }
  const { fetch: fetchFn, ...settings } = parsed.data;
  const option = (name: string) => `bizkithubProvider option \`${name}\``;
  return createBizkithub({ ...settings, ...(fetchFn ? { fetch: fetchFn } : {}) }, {
    apiKey: option('apiKey'),
    upstreamUrl: option('upstreamUrl'),
    host: hostOf(settings.upstreamUrl),
    paths: settings.paths,
  });
}

/** Host (and port) of a URL for diagnostics, never its userinfo or query. */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(unparsable URL)';
  }
}

/**
 * The BizKitHub provider from validated settings; `names` say what its
 * diagnostics blame (the option or the `IDGATE_*` variable). Core's config
 * builds the default provider with this.
 */
export function createBizkithub(settings: BizkithubSettings, names: DiagnosticNames): IdentityProvider {
  const base = settings.upstreamUrl.replace(/\/+$/, '');
  const inQuery = settings.apiKeyIn === 'query';
  const headers: Record<string, string> = inQuery ? {} : { authorization: `Bearer ${settings.apiKey}` };
  const urlFor = (path: string) => (inQuery ? `${base}${path}?apiKey=${encodeURIComponent(settings.apiKey)}` : `${base}${path}`);
  const common = { headers, ...(settings.fetch ? { fetch: settings.fetch } : {}) };
  const loginUrl = urlFor(settings.paths.login);
  const profileUrl = urlFor(settings.paths.profile);
  const logoutUrl = urlFor(settings.paths.logout);
  const policy = settings.http;

  // An answer none of the contract's shapes matches. A 4xx is definitive (the
  // upstream is up and said no): not an outage, never retried, logged by the
  // caller; a 2xx/3xx off-contract is an unreadable answer, i.e. an outage.
  const unexpected = (label: string, res: JsonResponse): UpstreamError => {
    const upstreamCode = bodyCode(res.body);
    if (res.status === 401 || res.status === 403) {
      return new UpstreamError('UPSTREAM_REJECTED', `${label}: upstream refused our credentials (${res.status}); check apiKey`, { status: 502, upstreamStatus: res.status, upstreamCode });
    }
    if (res.status >= 400 && res.status < 500) {
      return new UpstreamError('UPSTREAM_REFUSED', `${label}: upstream answered ${res.status}, which idgate does not recognise`, { status: 502, upstreamStatus: res.status, upstreamCode });
    }
    return bad(label, res.status);
  };

  async function verify(identityId: string, signal?: AbortSignal): Promise<ProfileResult> {
    const res = await requestJson(profileUrl, policy, {
      ...common,
      label: 'profile',
      body: { apiKey: settings.apiKey, identityId },
      ...(signal ? { signal } : {}),
    });
    const ended = sessionError.safeParse(res.body);
    if (ended.success) return { kind: ended.data.error === 'SESSION_EXPIRED' ? 'expired' : 'invalid' };
    const ok = profileOk.safeParse(res.body);
    if (!ok.success || res.status >= 300) throw unexpected('profile', res);
    const { id, email, name, success: _s, ...attributes } = { ...ok.data.contact, success: undefined };
    return {
      kind: 'valid',
      profile: { id, email: email.trim().toLowerCase(), name: name ?? undefined, attributes },
    };
  }

  const provider: IdentityProvider & { [DIAGNOSTIC_NAMES]: DiagnosticNames } = {
    name: 'bizkithub',
    isToken: isIdentityId,
    // requestJson keeps its own deadline (`totalTimeout`); core's is only a backstop behind it.
    timeout: policy.totalTimeout + 1_000,
    [DIAGNOSTIC_NAMES]: names,

    async login(input, signal) {
      // Core's wrapper (providerClient) has already canonicalised the e-mail and
      // checked the password and client IP; BizKitHub wants an IP in every login.
      const customerRealIp = normalizeIp(input.customerRealIp);
      const res = await requestJson(loginUrl, policy, {
        ...common,
        label: 'login',
        body: { email: input.email, password: input.password, customerRealIp },
        ...(signal ? { signal } : {}),
        isAnswer: (r) => loginFailed.safeParse(r.body).success,
        // A login may have been processed before a 500 or a reset; only retry
        // what provably did not reach it (refused connection) or said "later".
        retryNetworkError: (err) => (err as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED',
        retryStatus: (status) => status === 429 || status === 503,
      });
      const ok = loginOk.safeParse(res.body);
      if (ok.success && res.status < 300) {
        if (!isIdentityId(ok.data.identityId)) throw bad('login', res.status);
        return ok.data.identityId;
      }
      const failed = loginFailed.safeParse(res.body);
      if (failed.success) {
        const retryAfter = failed.data.error === 'E006' ? parseRetryAfter(res.headers.get('retry-after')) ?? 60 : undefined;
        throw loginErrorFor(failed.data.error, retryAfter);
      }
      throw unexpected('login', res);
    },

    verify,

    async logout(identityId, signal) {
      let res: JsonResponse;
      try {
        res = await requestJson(logoutUrl, policy, {
          ...common,
          label: 'logout',
          body: { apiKey: settings.apiKey, identityId },
          ...(signal ? { signal } : {}),
        });
      } catch (err) {
        // No logout route, whatever the 404's body (an HTML page included): tolerated.
        if (err instanceof UpstreamError && !err.outage && err.upstreamStatus === 404) return;
        throw err;
      }
      if (res.status === 404 || res.status < 300) return;
      if (sessionError.safeParse(res.body).success) return; // already gone upstream
      throw unexpected('logout', res);
    },

    // The profile of an identity that does not exist: any definitive answer
    // about the session proves the URL, the path and the key.
    async check(signal) {
      await verify(CHECK_IDENTITY_ID, signal);
    },
  };
  return provider;
}
