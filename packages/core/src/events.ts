/**
 * What idgate tells `onEvent`. `key` is always the keyed hash (HMAC) of the
 * identityId, never the raw value.
 */
export type IdgateEvent =
  | { type: 'verified'; key: string; ms: number }
  | { type: 'cache-hit'; key: string }
  | { type: 'cache-miss'; key: string }
  | { type: 'refreshed'; key: string; ms: number }
  | { type: 'expired'; key: string; reason: 'SESSION_EXPIRED' | 'INVALID_IDENTITY' }
  | { type: 'stale-served'; key: string; ageMs: number }
  | { type: 'upstream-error'; key?: string; code: string; operation: 'login' | 'profile' | 'logout' }
  | { type: 'login'; key: string }
  | { type: 'login-failed'; code: string; upstreamCode?: string }
  /**
   * A login refused by idgate's own limiter, before any upstream call, or the
   * upstream's lockout (E006, `fromUpstream`) answered as one. `key` is the
   * keyed hash of the e-mail or IP (per `reason`), never the raw value.
   */
  | { type: 'login-throttled'; reason: 'email' | 'ip'; key: string; fromUpstream: boolean }
  | { type: 'logout'; key: string }
  | { type: 'store-error'; operation: string; message: string }
  /** Another instance held the verification lease longer than `cache.lease.wait`: this one asked the upstream itself. */
  | { type: 'lease-wait-expired'; key: string; ms: number }
  /** A session's verification came from an entry another instance wrote (shared store), not from the upstream. */
  | { type: 'store-hit'; key: string };

/** Names of the events, for filtering. */
export type IdgateEventType = IdgateEvent['type'];
