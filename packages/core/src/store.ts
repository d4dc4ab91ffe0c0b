import { createHmac } from 'node:crypto';

/**
 * What a shared store keeps per verified session, before core encrypts it:
 * the profile and when it was verified, never the raw identityId. A store
 * only ever sees the sealed string (AES-256-GCM, see `sealValue`).
 */
export interface StoredIdentity {
  id: string;
  email: string;
  name?: string;
  attributes: Record<string, unknown>;
  /** Epoch ms of the last upstream verification (the writer's clock). */
  verifiedAt: number;
}

/** What a store knows about a key: the sealed entry, a tombstone, or nothing. */
export type StoreLookup = { kind: 'hit'; value: string } | { kind: 'invalidated' } | { kind: 'miss' };

/**
 * What `claim` answers: the entry or the tombstone (as `lookup` would), or,
 * when there is neither, whether this caller now holds the verification lease
 * (`claimed`) or another instance does (`busy`).
 */
export type StoreClaim = StoreLookup | { kind: 'claimed' } | { kind: 'busy' };

/** What a store tells its subscribers. */
export type StoreEvent =
  /** Another instance ended this session. */
  | { type: 'invalidate'; key: string }
  /** Messages may have been lost (reconnect): drop what you cached. */
  | { type: 'resync' };

/**
 * What `takeAttempt` answers: the attempt was recorded (keep `token` to take
 * it back), or the key is over its limit for `retryAfterMs` more.
 */
export type AttemptTake = { ok: true; token: string } | { ok: false; retryAfterMs: number };

/**
 * A cache shared between instances (Redis in `@idgate/redis`). Keys are the
 * keyed hash of the identityId; values are opaque strings core sealed
 * (encrypted and authenticated), so a store or its dumps hold no personal
 * data. Every method may fail: idgate treats a failure as a miss and carries
 * on with the upstream.
 */
export interface CacheStore {
  /** The entry, or that the session was invalidated (a tombstone), in one round trip. */
  lookup(key: string): Promise<StoreLookup>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Remove the entry, leave a tombstone for `ttlMs` (the cookie's remaining lifetime), and tell the other instances. */
  invalidate(key: string, ttlMs: number): Promise<void>;
  /**
   * Login throttling across instances (optional; implement all four or none).
   * Atomically: unless `key` is locked or already holds `limit` attempts
   * within the last `windowMs` (a sliding window), record one attempt under
   * `token` and answer ok; else answer how long until it frees. `key` is a
   * keyed hash (see `throttleKey`), never a raw e-mail or IP.
   */
  takeAttempt?(key: string, token: string, limit: number, windowMs: number): Promise<AttemptTake>;
  /** Take back an attempt that turned out not to count (the upstream gave no answer, or the login succeeded). */
  returnAttempt?(key: string, token: string): Promise<void>;
  /** Refuse every attempt on `key` for `ms` (at least; a longer lock stays). */
  lockAttempts?(key: string, ms: number): Promise<void>;
  /** Forget `key`'s attempts and lock (after a successful login). */
  clearAttempts?(key: string): Promise<void>;
  /**
   * Cross-instance single-flight (optional; implement `claim` and `release`
   * or neither). In one round trip: a tombstone answers `invalidated`; else
   * the entry answers `hit` (unless `skipEntry`: the caller found it too old);
   * else the verification lease on `key` is taken under `token` for `ttlMs`
   * if nobody holds it (`claimed`), or not (`busy`). Core calls it on a cache
   * miss only, never on a hit, and whoever is `busy` waits a bounded time for
   * the holder's entry before asking the upstream itself.
   */
  claim?(key: string, token: string, ttlMs: number, skipEntry?: boolean): Promise<StoreClaim>;
  /** Give the lease back, if `token` still holds it (after the entry is written, or the verification failed). */
  release?(key: string, token: string): Promise<void>;
  /** Listen for other instances' invalidations and for resyncs. */
  subscribe?(listener: (event: StoreEvent) => void): void;
  close?(): Promise<void>;
}

/**
 * The keyed hash (HMAC-SHA256, base64url) that stands for an identityId
 * wherever one leaves the process: stores, logs, events.
 * @example identityKey(secret, identityId) // 'q3J…'
 */
export function identityKey(secret: string, identityId: string): string {
  return createHmac('sha256', secret).update(identityId).digest('base64url');
}
