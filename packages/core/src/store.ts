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

/** What a store tells its subscribers. */
export type StoreEvent =
  /** Another instance ended this session. */
  | { type: 'invalidate'; key: string }
  /** Messages may have been lost (reconnect): drop what you cached. */
  | { type: 'resync' };

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
