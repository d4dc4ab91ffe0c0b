import { createHmac } from 'node:crypto';

/** What a shared store keeps per verified session: the profile, never the raw identityId. */
export interface StoredIdentity {
  id: string;
  email: string;
  name?: string;
  attributes: Record<string, unknown>;
  /** Epoch ms of the last upstream verification. */
  verifiedAt: number;
}

/**
 * A cache shared between instances (Redis in `@idgate/redis`). Keys are the
 * keyed hash of the identityId. Every method may fail: idgate treats a failure
 * as a miss and carries on with the upstream.
 */
export interface CacheStore {
  get(key: string): Promise<StoredIdentity | undefined>;
  set(key: string, value: StoredIdentity, ttlMs: number): Promise<void>;
  /** Remove the entry and remember (until `ttlMs`) that the session ended. */
  invalidate(key: string, ttlMs: number): Promise<void>;
  /** True when `invalidate` ran for the key within its ttl. */
  isInvalidated(key: string): Promise<boolean>;
  /** Called with a key when another instance invalidated it. */
  subscribe?(listener: (key: string) => void): void | (() => void);
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
