/**
 * An upstream call idgate (or @idgate/chat, @idgate/kyc) makes: `verify` is
 * BizKitHub's profile call, `login` and `logout` its customer login and
 * logout, `chat`, `chat-contacts` and `chat-conversations` Bookbag's APIs,
 * `kyc` Azakaw's GetSessionId.
 */
export type UpstreamOperation = 'verify' | 'login' | 'logout' | 'chat' | 'chat-contacts' | 'chat-conversations' | 'kyc';

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
  /**
   * One upstream call, emitted when it settles (retries included): when it
   * started (epoch ms), how long it took (seconds), and how it ended: `ok`
   * (an answer idgate expected, an expired session included), `rejected` (a
   * definitive refusal: wrong password, a KYC validation error) or `error`
   * (timeout, network, 5xx, malformed answer). `code` is the typed error's
   * code; `provider` the identity provider's `name` (verify, login, logout).
   * It carries no identityId, e-mail, key or message text.
   */
  | { type: 'upstream-call'; operation: UpstreamOperation; startedAt: number; seconds: number; outcome: 'ok' | 'rejected' | 'error'; code?: string; provider?: string }
  /** Another instance held the verification lease longer than `cache.lease.wait`: this one asked the upstream itself. */
  | { type: 'lease-wait-expired'; key: string; ms: number }
  /** A session's verification came from an entry another instance wrote (shared store), not from the upstream. */
  | { type: 'store-hit'; key: string };

/** Names of the events, for filtering. */
export type IdgateEventType = IdgateEvent['type'];
