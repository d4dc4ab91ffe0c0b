import { LRUCache } from 'lru-cache';
import type { IdgateConfig } from './config.js';
import { UpstreamError } from './errors.js';
import type { IdgateEvent } from './events.js';
import { createIdentity, type Identity, type IdentityStatus } from './identity.js';
import type { Logger } from './logger.js';
import { NONE, PRIVATE_HEADERS, type Decision, type Header } from './decision.js';
import { identityKey, type CacheStore, type StoredIdentity } from './store.js';
import type { Profile, UpstreamClient } from './upstream.js';

/**
 * The result of resolving a request's cookie. It is also the `next` decision
 * for a public route, so a cache hit returns one shared frozen object and
 * allocates nothing.
 */
export type AuthState = Extract<Decision, { kind: 'next' }> & {
  /** Seconds to suggest in Retry-After when `status` is `unavailable`. */
  readonly retryAfter?: number;
};

function state(status: IdentityStatus, identity: Identity | null, headers: readonly Header[] = NONE, retryAfter?: number): AuthState {
  return Object.freeze({ kind: 'next', status, identity, headers, setCookies: NONE, ...(retryAfter === undefined ? {} : { retryAfter }) });
}

/** The signed-out state. */
export const ANONYMOUS: AuthState = state('anonymous', null);
/** The upstream said SESSION_EXPIRED. */
export const EXPIRED: AuthState = state('expired', null);
/** The upstream said INVALID_IDENTITY, or the session was logged out here. */
export const INVALID: AuthState = state('invalid', null);

interface Entry {
  /** Returned as-is on a hit: no allocation on the hot path. */
  readonly state: AuthState;
  /** Epoch ms of the upstream verification. */
  readonly at: number;
  readonly profile: Profile;
  stale?: AuthState;
}

interface Flight {
  promise: Promise<AuthState>;
}

/** Verifies identityIds against the upstream with caching, single-flight, refresh-ahead and stale-if-error. */
export interface Verifier {
  /**
   * Resolve an identityId (already format-checked). Returns synchronously on a
   * fresh cache hit, a promise otherwise.
   */
  lookup(identityId: string): AuthState | Promise<AuthState>;
  /** Forget a session everywhere (logout): cache, in-flight verifications, shared store. */
  invalidate(identityId: string): Promise<void>;
  /** Prime the cache after a login (verifies once upstream). */
  verify(identityId: string): Promise<AuthState>;
  /** Entries in the positive and negative caches, for tests and metrics. */
  size(): { positive: number; negative: number; inflight: number };
}

/**
 * Build the verifier. Why not lru-cache's `fetch()`: the cache hit must stay
 * synchronous (no promise per request), negative answers live in their own
 * bounded cache so a spray of unknown ids cannot evict active users, and
 * logout must fence verifications already in flight (the generation check
 * below), which `fetch()` alone does not express.
 */
export function createVerifier(
  config: IdgateConfig,
  upstream: UpstreamClient,
  emit: (event: IdgateEvent) => void,
  logger: Logger,
): Verifier {
  const { ttl, staleIfError, negativeTtl } = config.cache;
  const refreshAt = ttl * config.cache.refreshAhead;
  const now = config.now ?? Date.now;
  const store: CacheStore | undefined = config.store;
  const positive = new LRUCache<string, Entry>({ max: config.cache.max });
  const negative = new LRUCache<string, AuthState>({ max: config.cache.negativeMax, ttl: Math.max(1, negativeTtl), ...(config.now ? { perf: { now } } : {}) });
  // Logged-out ids are remembered for as long as their cookie could live, in
  // case the upstream has no logout and would still call them valid.
  const tombstones = new LRUCache<string, true>({ max: config.cache.negativeMax, ttl: config.cookie.maxAge * 1000, ...(config.now ? { perf: { now } } : {}) });
  const inflight = new Map<string, Flight>();
  const keyOf = (id: string) => identityKey(config.secret, id);
  const privateHeaders = config.noStore ? PRIVATE_HEADERS : NONE;

  if (store?.subscribe) {
    store.subscribe((key) => {
      // Another instance logged this session out. We only hold raw ids, so
      // find the entry by its hash; invalidations are rare, the scan is bounded by max.
      for (const id of positive.keys()) if (keyOf(id) === key) forgetLocally(id);
    });
  }

  function forgetLocally(id: string): void {
    positive.delete(id);
    inflight.delete(id);
    negative.set(id, INVALID);
    tombstones.set(id, true);
  }

  function remember(id: string, profile: Profile, at: number): AuthState {
    const fresh = state('authenticated', createIdentity(profile, at, id), privateHeaders);
    positive.set(id, { state: fresh, at, profile });
    return fresh;
  }

  function staleState(id: string, entry: Entry): AuthState {
    entry.stale ??= state('authenticated', createIdentity(entry.profile, entry.at, id, true), privateHeaders);
    emit({ type: 'stale-served', key: keyOf(id), ageMs: now() - entry.at });
    return entry.stale;
  }

  async function fromStore(id: string, key: string): Promise<AuthState | undefined> {
    if (!store) return undefined;
    try {
      if (await store.isInvalidated(key)) return INVALID;
      const hit: StoredIdentity | undefined = await store.get(key);
      if (hit && now() - hit.verifiedAt < ttl) {
        const { verifiedAt, ...profile } = hit;
        return remember(id, profile, verifiedAt);
      }
    } catch (err) {
      emit({ type: 'store-error', operation: 'get', message: (err as Error).message });
    }
    return undefined;
  }

  async function run(id: string, flight: Flight, previous: Entry | undefined, background: boolean): Promise<AuthState> {
    const key = keyOf(id);
    const started = now();
    try {
      if (!previous) {
        const shared = await fromStore(id, key);
        if (shared) return shared;
      }
      const result = await upstream.profile(id);
      if (inflight.get(id) !== flight) return INVALID; // logged out meanwhile: never re-cache
      if (result.kind === 'valid') {
        const at = now();
        const verified = remember(id, result.profile, at);
        emit({ type: previous ? 'refreshed' : 'verified', key, ms: at - started });
        if (store) {
          store.set(key, { ...result.profile, verifiedAt: at }, ttl + staleIfError).catch((err: Error) => {
            emit({ type: 'store-error', operation: 'set', message: err.message });
          });
        }
        return verified;
      }
      const ended = result.kind === 'expired' ? EXPIRED : INVALID;
      positive.delete(id);
      if (negativeTtl > 0) negative.set(id, ended);
      emit({ type: 'expired', key, reason: result.kind === 'expired' ? 'SESSION_EXPIRED' : 'INVALID_IDENTITY' });
      return ended;
    } catch (err) {
      const error = err instanceof UpstreamError ? err : new UpstreamError('UPSTREAM_UNAVAILABLE', 'profile: unexpected failure', { cause: err });
      emit({ type: 'upstream-error', key, code: error.code, operation: 'profile' });
      logger.warn({ event: 'upstream-error', key, code: error.code, background }, error.message);
      if (previous && now() - previous.at < ttl + staleIfError) return staleState(id, previous);
      return state('unavailable', null, NONE, Math.min(error.retryAfter ?? config.retryAfter, 3600));
    } finally {
      if (inflight.get(id) === flight) inflight.delete(id);
    }
  }

  function start(id: string, previous: Entry | undefined, background: boolean): Promise<AuthState> {
    const existing = inflight.get(id);
    if (existing) return existing.promise;
    const flight = {} as Flight;
    inflight.set(id, flight);
    flight.promise = run(id, flight, previous, background);
    return flight.promise;
  }

  return {
    lookup(id) {
      const entry = positive.get(id);
      if (entry !== undefined) {
        const age = now() - entry.at;
        if (age < ttl) {
          // Refresh-ahead: an active session is re-verified in the background
          // (which also renews it upstream) before its entry runs out.
          if (age >= refreshAt && !inflight.has(id)) start(id, entry, true).catch(() => {});
          return entry.state;
        }
        if (age >= ttl + staleIfError) {
          positive.delete(id);
          return start(id, undefined, false);
        }
        return start(id, entry, false);
      }
      const known = negative.get(id);
      if (known !== undefined) return known;
      if (tombstones.has(id)) return INVALID;
      emit({ type: 'cache-miss', key: keyOf(id) });
      return start(id, undefined, false);
    },

    async invalidate(id) {
      forgetLocally(id);
      if (store) {
        await store.invalidate(keyOf(id), config.cookie.maxAge * 1000).catch((err: Error) => {
          emit({ type: 'store-error', operation: 'invalidate', message: err.message });
        });
      }
    },

    verify(id) {
      tombstones.delete(id);
      negative.delete(id);
      return start(id, undefined, false);
    },

    size() {
      return { positive: positive.size, negative: negative.size, inflight: inflight.size };
    },
  };
}
