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
  | { type: 'logout'; key: string }
  | { type: 'store-error'; operation: string; message: string };

/** Names of the events, for filtering. */
export type IdgateEventType = IdgateEvent['type'];
