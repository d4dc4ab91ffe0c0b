import type { IdgateConfig } from './config.js';
import type { BreakerState } from './breaker.js';
import type { IdgateEvent } from './events.js';
import { providerClient, type LoginInput, type ProfileResult } from './provider.js';

export type { Profile, ProfileResult } from './provider.js';
export { loginErrorFor, LOGIN_MESSAGES } from './bizkithub.js';

/**
 * Core's calls to the identity provider, wrapped (deadline, circuit breaker,
 * timing, typed errors): what the verifier and the login/logout flows use.
 */
export interface UpstreamClient {
  /** Log a customer in; resolves to the provider's new session token. Throws `LoginError`, `RequestError` or `UpstreamError`. */
  login(input: LoginInput, signal?: AbortSignal): Promise<string>;
  /** Verify a session. Throws `UpstreamError` when the upstream gives no definitive answer. */
  profile(identityId: string, signal?: AbortSignal): Promise<ProfileResult>;
  /** End a session upstream; an upstream without a logout route (404) is tolerated. */
  logout(identityId: string): Promise<void>;
  /** The circuit breaker's state: `open` means calls fail fast. */
  circuit(): BreakerState;
  /**
   * The grammar of the session tokens the signed cookie may carry; a cookie
   * whose token fails it never reaches `profile`.
   * @default isIdentityId (BizKitHub's 32 alphanumerics)
   */
  isToken?(value: string): boolean;
}

/**
 * The client for a resolved config's provider (the built-in BizKitHub one
 * unless the `provider` option gave another), wrapped as core wraps every
 * provider: deadline, circuit breaker, and timing events when `emit` is given.
 * @example
 * const client = createUpstreamClient(resolveConfig(), metrics.onEvent);
 * const result = await client.profile(identityId);
 */
export function createUpstreamClient(config: IdgateConfig, emit?: (event: IdgateEvent) => void): UpstreamClient {
  return providerClient(config.provider, { breaker: config.breaker, now: config.now, emit });
}
