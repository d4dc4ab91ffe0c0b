import { LRUCache } from 'lru-cache';
import type { IdgateConfig } from './config.js';
import { NONE, PRIVATE_HEADERS, type Decision, type Header } from './decision.js';
import { UpstreamError } from './errors.js';
import { clientRetryAfter } from './http.js';
import type { IdgateEvent } from './events.js';
import { createIdentity, rawIdentityId, type Identity, type IdentityStatus } from './identity.js';
import type { Logger } from './logger.js';
import { identityKey, type CacheStore, type StoredIdentity } from './store.js';
import type { Profile, UpstreamClient } from './upstream.js';

/** Per-session timing the rolling cookie needs; mutable, shared by every hit of the entry. */
export interface SessionClock {
  /** Epoch ms the session was first seen: the absolute lifetime counts from here. */
  readonly since: number;
  /** Epoch ms the cookie was last (re)issued or renewed. */
  renewedAt: number;
}

/**
 * The result of resolving a request's cookie. It is also the `next` decision
 * for a public route, so a cache hit returns one shared frozen object and
 * allocates nothing.
 */
export type AuthState = Extract<Decision, { kind: 'next' }> & {
  /** Seconds to suggest in Retry-After when `status` is `unavailable`. */
  readonly retryAfter?: number;
  /** Present on authenticated states: drives the rolling cookie. */
  readonly session?: SessionClock;
};

function state(status: IdentityStatus, identity: Identity | null, headers: readonly Header[] = NONE, extra?: { retryAfter?: number; session?: SessionClock }): AuthState {
  return Object.freeze({ kind: 'next', status, identity, headers, setCookies: NONE, ...extra });
}

/** The signed-out state. */
export const ANONYMOUS: AuthState = state('anonymous', null);
/** The upstream said SESSION_EXPIRED (or the absolute lifetime passed). */
export const EXPIRED: AuthState = state('expired', null);
/** The upstream said INVALID_IDENTITY, or the session was logged out here. */
export const INVALID: AuthState = state('invalid', null);

interface Entry {
  /** Returned as-is on a hit: no allocation on the hot path. */
  readonly state: AuthState;
  /** Epoch ms of the upstream verification. */
  readonly at: number;
  /** Keyed hash of the identityId, computed once on the miss path. */
  readonly key: string;
  readonly session: SessionClock;
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
  /** Verify now, bypassing caches (after a login: primes the cache). */
  verify(identityId: string): Promise<AuthState>;
  /** Entries in the caches, for tests and metrics. */
  size(): { positive: number; negative: number; inflight: number };
}

/**
 * Build the verifier. Why not lru-cache's `fetch()`: the cache hit must stay
 * synchronous (no promise per request), negative answers live in their own
 * bounded cache so a spray of unknown ids cannot evict active users, stale
 * entries must outlive their ttl for stale-if-error, and logout must fence
 * verifications already in flight (the flight identity check in `run`).
 */
export function createVerifier(
  config: IdgateConfig,
  upstream: UpstreamClient,
  emit: ((event: IdgateEvent) => void) | undefined,
  logger: Logger,
): Verifier {
  const { staleIfError, negativeTtl } = config.cache;
  // An entry never outlives the upstream's inactivity window, and is refreshed
  // after `refreshAhead` of it, so an active session never expires upstream.
  const ttl = Math.min(config.cache.ttl, config.cache.upstreamIdle);
  const refreshAt = ttl * config.cache.refreshAhead;
  const absoluteMs = config.cookie.absoluteLifetime * 1000;
  const now = config.now ?? Date.now;
  const store: CacheStore | undefined = config.store;
  const tell = emit ?? (() => {});
  const privateHeaders = config.noStore ? PRIVATE_HEADERS : NONE;
  const keyOf = (id: string) => identityKey(config.secret, id);
  const perf = config.now ? { perf: { now } } : {};
  // Only a shared store needs key -> id: its invalidations arrive as hashes.
  const byKey = store?.subscribe ? new Map<string, string>() : undefined;
  const positive = new LRUCache<string, Entry>({
    max: config.cache.max,
    ...(byKey ? { dispose: (entry: Entry, _id: string, reason: string) => reason !== 'set' && byKey.delete(entry.key) } : {}),
  });
  const negative = new LRUCache<string, AuthState>({ max: config.cache.negativeMax, ttl: Math.max(1, negativeTtl), ...perf });
  // Logged-out ids are remembered for as long as their cookie could live, in
  // case the upstream has no logout and would still call them valid.
  const tombstones = new LRUCache<string, true>({ max: config.cache.negativeMax, ttl: config.cookie.maxAge * 1000, ...perf });
  const inflight = new Map<string, Flight>();

  store?.subscribe?.((event) => {
    if (event.type === 'resync') {
      // Invalidations may have been missed while disconnected: re-verify everything.
      positive.clear();
      logger.info({ event: 'store-resync' }, 'idgate: shared store reconnected; local cache dropped');
      return;
    }
    const id = byKey?.get(event.key);
    if (id !== undefined) forgetLocally(id);
  });

  function forgetLocally(id: string): void {
    positive.delete(id);
    inflight.delete(id);
    negative.set(id, INVALID);
    tombstones.set(id, true);
  }

  function remember(cookieValue: string, key: string, profile: Profile, at: number, since: number, previous?: Entry): AuthState {
    // The cookie value is usually a slice of the request's whole Cookie
    // header, and V8 keeps the header alive for as long as the slice: the
    // cache keeps its own 32-byte copy instead (miss path only).
    const id = Buffer.from(cookieValue, 'latin1').toString('latin1');
    const session: SessionClock = previous?.session ?? { since, renewedAt: at };
    const fresh = state('authenticated', createIdentity(profile, at, id), privateHeaders, { session });
    // The entry keeps the identity, not the upstream profile as well: one copy of each field.
    positive.set(id, { state: fresh, at, key, session });
    byKey?.set(key, id);
    return fresh;
  }

  function staleState(id: string, entry: Entry): AuthState {
    const identity = entry.state.identity!;
    entry.stale ??= state('authenticated', createIdentity(identity, entry.at, rawIdentityId(identity) ?? id, true), privateHeaders, { session: entry.session });
    tell({ type: 'stale-served', key: entry.key, ageMs: now() - entry.at });
    return entry.stale;
  }

  function storeError(operation: string, err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    tell({ type: 'store-error', operation, message });
    logger.warn({ event: 'store-error', operation }, `idgate: shared store ${operation} failed: ${message}`);
  }

  async function fromStore(id: string, key: string): Promise<AuthState | undefined> {
    if (!store) return undefined;
    try {
      const found = await store.lookup(key);
      if (found.kind === 'invalidated') return INVALID;
      if (found.kind === 'hit' && now() - found.value.verifiedAt < ttl) {
        const { verifiedAt, since, ...profile } = found.value;
        return remember(id, key, profile, verifiedAt, since);
      }
    } catch (err) {
      storeError('lookup', err);
    }
    return undefined;
  }

  async function run(id: string, flight: Flight, previous: Entry | undefined, background: boolean): Promise<AuthState> {
    const key = previous?.key ?? keyOf(id);
    const started = now();
    try {
      if (!previous) {
        const shared = await fromStore(id, key);
        if (shared) {
          if (inflight.get(id) !== flight) return INVALID;
          return shared;
        }
      }
      const result = await upstream.profile(id);
      if (inflight.get(id) !== flight) return INVALID; // logged out meanwhile: never re-cache
      if (result.kind === 'valid') {
        const at = now();
        const since = previous?.session.since ?? at;
        const verified = remember(id, key, result.profile, at, since, previous);
        tell({ type: previous ? 'refreshed' : 'verified', key, ms: at - started });
        store?.set(key, { ...result.profile, verifiedAt: at, since }, ttl + staleIfError).catch((err) => storeError('set', err));
        return verified;
      }
      const ended = result.kind === 'expired' ? EXPIRED : INVALID;
      positive.delete(id);
      if (negativeTtl > 0) negative.set(id, ended);
      tell({ type: 'expired', key, reason: result.kind === 'expired' ? 'SESSION_EXPIRED' : 'INVALID_IDENTITY' });
      return ended;
    } catch (err) {
      const error = err instanceof UpstreamError ? err : new UpstreamError('UPSTREAM_UNAVAILABLE', 'profile: unexpected failure', { cause: err });
      tell({ type: 'upstream-error', key, code: error.code, operation: 'profile' });
      logger.warn({ event: 'upstream-error', key, code: error.code, background }, error.message);
      // Stale-if-error: a definitive answer never reaches here, so stale data
      // can only stand in for "the upstream did not answer".
      if (previous && now() - previous.at < ttl + staleIfError) return staleState(id, previous);
      return state('unavailable', null, NONE, { retryAfter: clientRetryAfter(error.retryAfter, config.retryAfterCap, config.retryAfter) });
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
        const t = now();
        const age = t - entry.at;
        if (t - entry.session.since >= absoluteMs) {
          positive.delete(id);
          return EXPIRED;
        }
        if (age < ttl) {
          if (emit) emit({ type: 'cache-hit', key: entry.key });
          // Refresh-ahead: an active session is re-verified in the background
          // (which also renews it upstream) before its entry runs out.
          if (age >= refreshAt && !inflight.has(id)) void start(id, entry, true);
          return entry.state;
        }
        // Past its ttl: re-verify and wait. The entry goes along for its key,
        // its session clock, and (within the stale window) stale-if-error.
        return start(id, entry, false);
      }
      const known = negative.get(id);
      if (known !== undefined) return known;
      if (tombstones.has(id)) return INVALID;
      if (emit) emit({ type: 'cache-miss', key: keyOf(id) });
      return start(id, undefined, false);
    },

    async invalidate(id) {
      const key = positive.get(id)?.key ?? keyOf(id);
      forgetLocally(id);
      if (store) await store.invalidate(key, config.cookie.maxAge * 1000).catch((err) => storeError('invalidate', err));
    },

    verify(id) {
      tombstones.delete(id);
      negative.delete(id);
      inflight.delete(id);
      return start(id, undefined, false);
    },

    size() {
      return { positive: positive.size, negative: negative.size, inflight: inflight.size };
    },
  };
}
