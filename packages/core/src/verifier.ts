import { Buffer } from 'node:buffer';
import type { IdgateConfig } from './config.js';
import { NONE, PRIVATE_HEADERS, VARY_COOKIE, type Decision, type Header } from './decision.js';
import { UpstreamError } from './errors.js';
import { clientRetryAfter } from './http.js';
import type { IdgateEvent } from './events.js';
import { createIdentity, rawIdentityId, type Identity, type IdentityStatus } from './identity.js';
import type { Logger } from './logger.js';
import { randomBytes } from 'node:crypto';
import { identityKey, type CacheStore, type StoreClaim, type StoredIdentity } from './store.js';
import { SieveIndex, type SieveNode } from './sieve.js';
import { ExpiringMap, ExpiringSet } from './expiring.js';
import { turnNow } from './clock.js';
import { openSession, openValue, sealValue, signSession, type SessionToken } from './session.js';
import type { Profile, UpstreamClient } from './upstream.js';

/** Per-session timing the rolling cookie needs; mutable, shared by every hit of the entry. */
export interface SessionClock {
  /** Epoch ms the session started (the cookie's signed issued-at): the absolute lifetime counts from here. */
  readonly since: number;
  /** Epoch ms the cookie was last (re)issued or renewed. */
  renewedAt: number;
  /**
   * Epoch ms of the latest lookup that answered this session (the clock read
   * for the request being decided): the rolling cookie's renewal counts from
   * it, so a hit reads the clock once, not once per decision.
   */
  seenAt: number;
  /** The signed cookie value to (re)issue. */
  readonly value: string;
  /** The request carried a legacy unsigned cookie: answer with the signed one. */
  readonly legacy?: true;
}

/**
 * The result of resolving a request's cookie. It is also the `next` decision
 * for a public route, so a cache hit returns one shared frozen object and
 * allocates nothing.
 */
export type AuthState = Extract<Decision, { kind: 'next' }> & {
  /** Seconds to suggest in Retry-After when `status` is `unavailable`. */
  readonly retryAfter?: number;
  /** Set when the upstream answered with a definitive refusal idgate does not recognise (not an outage): its error code. */
  readonly refused?: string;
  /** Present on authenticated states: drives the rolling cookie. */
  readonly session?: SessionClock;
};

function state(status: IdentityStatus, identity: Identity | null, headers: readonly Header[] = NONE, extra?: { retryAfter?: number; session?: SessionClock; refused?: string }): AuthState {
  return Object.freeze({ kind: 'next', status, identity, headers, setCookies: NONE, ...extra });
}

/** The signed-out state. */
export const ANONYMOUS: AuthState = state('anonymous', null);
/** Signed-out, but the request carried a cookie by our name that idgate did not sign (forged, tampered, foreign, legacy). */
export const UNRECOGNIZED: AuthState = state('anonymous', null, VARY_COOKIE);
/** The upstream said SESSION_EXPIRED (or the absolute lifetime passed). */
export const EXPIRED: AuthState = state('expired', null);
/** The upstream said INVALID_IDENTITY, or the session was logged out here. */
export const INVALID: AuthState = state('invalid', null);

/**
 * A verified session, held under its cookie value (`sieveKey`); it is the
 * cache's node itself (`SieveNode`), and its upstream identityId is its
 * identity's (`idOf`): one object per cached session, each value once.
 */
interface Entry extends SieveNode<string, Entry> {
  /** Returned as-is on a hit: no allocation on the hot path. */
  readonly state: AuthState;
  /** Epoch ms of the upstream verification, never later than this instance's clock. */
  readonly at: number;
  /** Keyed hash of the identityId, computed once on the miss path. */
  readonly key: string;
  readonly session: SessionClock;
  /** The other cookie value this entry is cached under (a legacy cookie and its signed successor). */
  readonly alias?: string;
  stale?: AuthState;
}

interface Flight {
  promise: Promise<AuthState>;
  readonly key: string;
  /** Set when the session is invalidated while the verification runs: its answer is never cached. */
  fenced: boolean;
}

/** Verifies session cookies against the upstream with caching, single-flight, refresh-ahead and stale-if-error. */
export interface Verifier {
  /**
   * Resolve a session cookie's value. Returns synchronously on a fresh cache
   * hit (no crypto: the cache is keyed by the whole value) and for a value
   * idgate did not sign (no I/O); a promise otherwise.
   */
  lookup(cookieValue: string): AuthState | Promise<AuthState>;
  /**
   * End a session everywhere (logout): cache, verifications in flight (here
   * and, through the store, on every instance) and a tombstone that lives as
   * long as the cookie could. Only a cookie idgate signed takes a tombstone;
   * resolves to its upstream identityId, or undefined for anything else.
   */
  invalidate(cookieValue: string): Promise<string | undefined>;
  /** Verify now, bypassing caches (after a login: primes the cache). */
  verify(cookieValue: string): Promise<AuthState>;
  /** Entries in the caches, for tests and metrics. */
  size(): { positive: number; negative: number; inflight: number; tombstones: number };
}

/**
 * Build the verifier. Why not lru-cache's `fetch()`: the cache hit must stay
 * synchronous (no promise per request), negative answers live in their own
 * bounded cache so a spray of unknown ids cannot evict active users, stale
 * entries must outlive their ttl for stale-if-error, and logout must fence
 * verifications already in flight, on this instance and on others.
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
  const legacyUntil = config.cookie.acceptUnsignedUntil?.getTime() ?? 0;
  // Read once per event-loop turn, not once per hit (clock.ts).
  const now = config.now ?? turnNow;
  const store: CacheStore | undefined = config.store;
  const keys = config.keys;
  const tell = emit ?? (() => {});
  const privateHeaders = config.noStore ? PRIVATE_HEADERS : VARY_COOKIE;
  const keyOf = (id: string) => identityKey(config.secret, id);
  // After a rotation, tombstones written under an older secret's key still count.
  const olderKeysOf = (id: string) => config.secrets.slice(1).map((secret) => identityKey(secret, id));
  // Expiry runs on an injected clock, else on a monotonic one (performance.now).
  const clock = config.now;
  // key -> cookie value: invalidations (local, or another instance's) arrive by key.
  const byKey = new Map<string, string>();
  // Verified sessions by cookie value. SIEVE, not LRU: a hit (every signed-in
  // request) is one Map lookup and one flag, where lru-cache's get also
  // reorders its list (bench/PROFILE.md).
  const positive = new SieveIndex<string, Entry>(config.cache.max, (entry) => {
    if (byKey.get(entry.key) === entry.sieveKey) byKey.delete(entry.key);
  });
  // Both bounded maps below grow with use: no storage for `max` entries up front.
  const negative = new ExpiringMap<string, AuthState>({ max: config.cache.negativeMax, ttl: Math.max(1, negativeTtl), now: clock });
  // Logged-out sessions, by key, each kept until its cookie's absolute
  // lifetime ends. Only sessions idgate signed (or, in a migration window,
  // verified) get one, so strangers cannot fill it; past `tombstoneMax` the
  // oldest go, and only the shared store (whose tombstones are not bounded
  // this way) still remembers them.
  const revoked = new ExpiringSet<string>({ max: config.cache.tombstoneMax, ttl: absoluteMs, now: clock });
  const inflight = new Map<string, Flight>();
  const leaseTtl = config.cache.lease.ttl;
  const leaseWait = config.cache.lease.wait;
  const leasing = !!store && typeof store.claim === 'function' && typeof store.release === 'function' && leaseWait > 0;
  // A lease names its holder: unique per process (random) and per claim (a counter), no crypto per miss.
  const leasePrefix = `${randomBytes(9).toString('base64url')}.`;
  let leases = 0;

  // Logouts the store did not take (down, failing over): written again in the
  // background, 100 ms doubling to 2 s apart, until the store takes them or
  // their tombstone would have expired; at most `tombstoneMax` wait (oldest go first).
  const unwritten = new Map<string, number>();
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let retryDelay = 100;
  let flushing = false;
  function retryLater(key: string, until: number): void {
    unwritten.delete(key);
    unwritten.set(key, until);
    if (unwritten.size > config.cache.tombstoneMax) unwritten.delete(unwritten.keys().next().value!);
    schedule();
  }
  function schedule(): void {
    if (retryTimer !== undefined || flushing || unwritten.size === 0) return;
    retryTimer = setTimeout(() => void flush(), retryDelay);
    retryTimer.unref?.();
  }
  async function flush(): Promise<void> {
    retryTimer = undefined;
    if (flushing || !store) return;
    flushing = true;
    try {
      for (const [key, until] of unwritten) {
        const left = until - now();
        if (left > 0) await store.invalidate(key, left);
        unwritten.delete(key);
      }
      retryDelay = 100;
    } catch {
      retryDelay = Math.min(retryDelay * 2, 2_000);
    } finally {
      flushing = false;
      schedule();
    }
  }

  store?.subscribe?.((event) => {
    if (event.type === 'resync') {
      if (retryTimer !== undefined) {
        clearTimeout(retryTimer);
        void flush();
      }
      // Invalidations may have been missed while disconnected: re-verify
      // everything. Verifications in flight re-check the store's tombstone
      // after the upstream answers, so they need no fence here.
      positive.clear();
      logger.info({ event: 'store-resync' }, 'idgate: shared store reconnected; local cache dropped');
      return;
    }
    revoke(event.key, absoluteMs);
  });

  /** Forget a session by key on this instance: cache entries, flights in flight, and a tombstone. */
  function revoke(key: string, lifetimeMs: number): void {
    revoked.add(key, Math.max(1, lifetimeMs));
    const value = byKey.get(key);
    if (value !== undefined) {
      const entry = positive.get(value);
      positive.delete(value);
      if (entry?.alias !== undefined) positive.delete(entry.alias);
      byKey.delete(key);
    }
    for (const flight of inflight.values()) if (flight.key === key) flight.fenced = true;
  }

  const legacyAllowed = () => legacyUntil > now();

  function remember(value: string, token: SessionToken, key: string, profile: Profile, at: number, previous?: Entry): AuthState {
    // The cookie value is usually a slice of the request's whole Cookie
    // header, and V8 keeps the header alive for as long as the slice: the
    // cache keeps its own copy instead (miss path only); a refresh reuses the
    // entry's, so the cache holds one copy of each value.
    const own = previous?.sieveKey === value ? previous.sieveKey : Buffer.from(value, 'latin1').toString('latin1');
    // The token, likewise: a slice of that copy, as a slice of `value` would
    // keep the request's header alive again (the token leads a signed value;
    // a legacy value is the token).
    const id = previous !== undefined ? idOf(previous) : token.signed ? own.slice(0, token.id.length) : own;
    let session = previous?.session;
    if (session === undefined) {
      if (token.signed) session = { since: token.issuedAt, renewedAt: at, seenAt: at, value: own };
      else {
        // A legacy cookie: the session starts now, and is answered with a signed cookie.
        const since = at;
        session = { since, renewedAt: 0, seenAt: at, value: signSession(keys, id, since), legacy: true };
      }
    } else session.seenAt = at;
    const fresh = state('authenticated', createIdentity(profile, at, id), privateHeaders, { session });
    const alias = session.value !== own ? session.value : undefined;
    // The entry keeps the identity, not the upstream profile as well: one copy of each field.
    positive.set(entryOf(own, fresh, at, key, session, alias));
    if (alias !== undefined) positive.set(entryOf(alias, fresh, at, key, { since: session.since, renewedAt: at, seenAt: at, value: alias }, own));
    byKey.set(key, own);
    return fresh;
  }

  function staleState(entry: Entry): AuthState {
    const identity = entry.state.identity!;
    entry.stale ??= state('authenticated', createIdentity(identity, entry.at, idOf(entry), true), privateHeaders, { session: entry.session });
    tell({ type: 'stale-served', key: entry.key, ageMs: now() - entry.at });
    return entry.stale;
  }

  function storeError(operation: string, err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    tell({ type: 'store-error', operation, message });
    logger.warn({ event: 'store-error', operation }, `idgate: shared store ${operation} failed: ${message}`);
  }

  /** The shared store's view of a key: its (decrypted) entry, a tombstone, or nothing. */
  async function fromStore(id: string, key: string): Promise<{ kind: 'hit'; value: StoredIdentity } | { kind: 'invalidated' } | { kind: 'miss' }> {
    if (!store) return { kind: 'miss' };
    try {
      const found = await store.lookup(key);
      if (found.kind === 'invalidated') return found;
      for (const older of olderKeysOf(id)) if ((await store.lookup(older)).kind === 'invalidated') return { kind: 'invalidated' };
      if (found.kind === 'hit') {
        const value = unseal(key, found.value);
        if (value) return { kind: 'hit', value };
        storeError('lookup', new Error('entry could not be decrypted or has an unexpected shape'));
      }
    } catch (err) {
      storeError('lookup', err);
    }
    return { kind: 'miss' };
  }

  function unseal(key: string, sealed: string): StoredIdentity | undefined {
    const text = typeof sealed === 'string' ? openValue(keys, key, sealed) : undefined;
    if (text === undefined) return undefined;
    try {
      const v = JSON.parse(text) as Record<string, unknown>;
      const ok =
        typeof v.id === 'string' && typeof v.email === 'string' && (v.name === undefined || typeof v.name === 'string') &&
        typeof v.attributes === 'object' && v.attributes !== null && !Array.isArray(v.attributes) && typeof v.verifiedAt === 'number' && Number.isFinite(v.verifiedAt);
      return ok ? (v as unknown as StoredIdentity) : undefined;
    } catch {
      return undefined;
    }
  }

  /** What the shared store says before this instance asks the upstream. */
  type Consulted = { kind: 'hit'; value: StoredIdentity } | { kind: 'invalidated' } | { kind: 'ask'; lease?: string };

  /**
   * Ask the store for an entry verified at or after `minAt`. With a store that
   * leases (`claim`), at most one instance at a time asks the upstream for a
   * key: the others poll (10 ms, doubling to 100 ms) for its entry, up to
   * `lease.wait`, and ask the upstream themselves past it or once the holder
   * gives the lease back without an entry. Miss path only.
   */
  async function consult(id: string, key: string, minAt: number, fenced: () => boolean): Promise<Consulted> {
    if (!store) return { kind: 'ask' };
    if (!leasing) {
      const shared = await fromStore(id, key);
      if (shared.kind === 'hit' && Math.min(shared.value.verifiedAt, now()) < minAt) return { kind: 'ask' };
      return shared.kind === 'miss' ? { kind: 'ask' } : shared;
    }
    const lease = `${leasePrefix}${(++leases).toString(36)}`;
    const deadline = performance.now() + leaseWait;
    let skipEntry = false;
    let delay = 10;
    for (;;) {
      let answer: StoreClaim;
      try {
        answer = await store.claim!(key, lease, leaseTtl, skipEntry);
        if (answer.kind !== 'invalidated' && (await olderTombstone(id))) answer = { kind: 'invalidated' };
      } catch (err) {
        storeError('claim', err);
        // A claim that timed out may still have taken the lease: give it back when done.
        return { kind: 'ask', lease };
      }
      if (answer.kind === 'invalidated') return answer;
      if (answer.kind === 'claimed') return { kind: 'ask', lease };
      if (answer.kind === 'hit') {
        const value = unseal(key, answer.value);
        if (!value) storeError('lookup', new Error('entry could not be decrypted or has an unexpected shape'));
        else if (Math.min(value.verifiedAt, now()) >= minAt) return { kind: 'hit', value };
        skipEntry = true; // too old for us: take the lease (or wait for whoever has it)
        continue;
      }
      // busy: another instance is asking the upstream right now
      const left = deadline - performance.now();
      if (left <= 0 || fenced()) {
        if (!fenced()) tell({ type: 'lease-wait-expired', key, ms: leaseWait });
        return { kind: 'ask' };
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(delay, left)));
      delay = Math.min(delay * 2, 100);
      skipEntry = false;
    }
  }

  /** After a rotation: a tombstone written under an older secret's key still counts. */
  async function olderTombstone(id: string): Promise<boolean> {
    for (const older of olderKeysOf(id)) if ((await store!.lookup(older)).kind === 'invalidated') return true;
    return false;
  }

  function release(key: string, lease: string | undefined, after?: Promise<unknown>): void {
    if (lease === undefined || !store?.release) return;
    const give = () => store.release!(key, lease).catch((err) => storeError('release', err));
    if (after) void after.finally(give);
    else void give();
  }

  async function run(value: string, token: SessionToken, flight: Flight, previous: Entry | undefined, background: boolean): Promise<AuthState> {
    const { key } = flight;
    const started = now();
    const fenced = () => flight.fenced || revoked.has(key);
    let lease: string | undefined;
    let written: Promise<unknown> | undefined;
    try {
      // A cold miss takes any entry still within its ttl; a refresh only one
      // newer than its refresh point (another instance refreshed it first).
      if (!previous || leasing) {
        const shared = await consult(token.id, key, started - (previous ? refreshAt : ttl), fenced);
        if (shared.kind === 'invalidated') {
          revoke(key, token.signed ? token.issuedAt + absoluteMs - now() : absoluteMs);
          return INVALID;
        }
        if (fenced()) return INVALID;
        if (shared.kind === 'hit') {
          const { verifiedAt, ...profile } = shared.value;
          // An entry from a writer whose clock runs ahead counts as verified
          // now at the latest: this instance re-verifies within its own ttl.
          tell({ type: 'store-hit', key });
          return remember(value, token, key, profile, Math.min(verifiedAt, now()), previous);
        }
        lease = shared.lease;
      }
      const result = await upstream.profile(token.id);
      if (fenced()) return INVALID; // logged out meanwhile: never re-cache
      if (result.kind === 'valid') {
        // A logout on another instance whose message this one missed (or has
        // not received yet) is still a tombstone in the store.
        if (store && (await fromStore(token.id, key)).kind === 'invalidated') {
          revoke(key, token.signed ? token.issuedAt + absoluteMs - now() : absoluteMs);
          return INVALID;
        }
        if (fenced()) return INVALID;
        const at = now();
        const verified = remember(value, token, key, result.profile, at, previous);
        tell({ type: previous ? 'refreshed' : 'verified', key, ms: at - started });
        if (store) {
          const sealed = sealValue(keys, key, JSON.stringify({ ...result.profile, verifiedAt: at }));
          written = store.set(key, sealed, ttl + staleIfError).catch((err) => storeError('set', err));
        }
        return verified;
      }
      const ended = result.kind === 'expired' ? EXPIRED : INVALID;
      positive.delete(value);
      if (negativeTtl > 0) negative.set(value, ended);
      tell({ type: 'expired', key, reason: result.kind === 'expired' ? 'SESSION_EXPIRED' : 'INVALID_IDENTITY' });
      return ended;
    } catch (err) {
      const error = err instanceof UpstreamError ? err : new UpstreamError('UPSTREAM_UNAVAILABLE', 'profile: unexpected failure', { cause: err });
      tell({ type: 'upstream-error', key, code: error.code, operation: 'profile' });
      logger.warn({ event: 'upstream-error', key, code: error.code, background }, error.message);
      // Stale-if-error: a definitive answer never reaches here, so stale data
      // can only stand in for "the upstream did not answer".
      // A definitive refusal (a 4xx idgate does not recognise, our key refused) is no outage: no stale data, no retry hint.
      if (!error.outage) return state('unavailable', null, VARY_COOKIE, { refused: error.code === 'UPSTREAM_REJECTED' ? error.code : 'UPSTREAM_REFUSED' });
      if (previous && !fenced() && now() - previous.at < ttl + staleIfError) return staleState(previous);
      return state('unavailable', null, VARY_COOKIE, { retryAfter: clientRetryAfter(error.retryAfter, config.retryAfterCap, config.retryAfter) });
    } finally {
      // Waiters poll for the entry: give the lease back only once it is written.
      release(key, lease, written);
      if (inflight.get(value) === flight) inflight.delete(value);
    }
  }

  function start(value: string, token: SessionToken, key: string, previous: Entry | undefined, background: boolean): Promise<AuthState> {
    const existing = inflight.get(value);
    if (existing) return existing.promise;
    const flight: Flight = { promise: undefined as unknown as Promise<AuthState>, key, fenced: false };
    inflight.set(value, flight);
    flight.promise = run(value, token, flight, previous, background);
    return flight.promise;
  }

  // The provider's token grammar (undefined: BizKitHub's identityId, openSession's default).
  const isToken = upstream.isToken?.bind(upstream);
  /** The cookie as idgate reads it: a token it signed (or a legacy one in the window), else undefined. */
  function open(value: string): SessionToken | undefined {
    return openSession(keys, value, legacyUntil !== 0 && legacyAllowed(), isToken);
  }

  function miss(value: string): AuthState | Promise<AuthState> {
    const known = negative.get(value);
    if (known !== undefined) return known;
    // Not signed by us (forged, tampered, another app's, or unsigned after
    // the migration window): anonymous, with no upstream call.
    const token = open(value);
    if (token === undefined) return UNRECOGNIZED;
    if (token.signed && now() - token.issuedAt >= absoluteMs) return EXPIRED;
    const key = keyOf(token.id);
    if (revoked.has(key)) return INVALID;
    if (emit) emit({ type: 'cache-miss', key });
    return start(value, token, key, undefined, false);
  }

  return {
    lookup(value) {
      const entry = positive.get(value);
      if (entry === undefined) return miss(value);
      const t = now();
      const age = t - entry.at;
      if (t - entry.session.since >= absoluteMs) {
        positive.delete(value);
        return EXPIRED;
      }
      // age < 0: this clock went back since the verification; re-verify rather than trust it.
      if (age < ttl && age >= 0) {
        entry.session.seenAt = t;
        if (emit) emit({ type: 'cache-hit', key: entry.key });
        // Refresh-ahead: an active session is re-verified in the background
        // (which also renews it upstream) before its entry runs out.
        if (age >= refreshAt && !inflight.has(value)) void start(value, tokenOf(entry), entry.key, entry, true);
        return entry.state;
      }
      // Past its ttl: re-verify and wait. The entry goes along for its
      // session clock and (within the stale window) stale-if-error.
      return start(value, tokenOf(entry), entry.key, entry, false);
    },

    async invalidate(value) {
      const entry = positive.get(value);
      const token = entry ? tokenOf(entry) : open(value);
      if (token === undefined) return undefined;
      // A legacy cookie proves nothing by itself: it takes a slot only once the upstream vouched for it.
      if (!token.signed && !entry) {
        const verified = await this.lookup(value);
        if (verified.status !== 'authenticated') return undefined;
      }
      const key = entry?.key ?? keyOf(token.id);
      const since = entry?.session.since ?? token.issuedAt;
      const remaining = Number.isFinite(since) ? since + absoluteMs - now() : absoluteMs;
      if (remaining <= 0) return token.id;
      revoke(key, remaining);
      negative.set(value, INVALID);
      if (store) {
        await store.invalidate(key, remaining).catch((err) => {
          storeError('invalidate', err);
          retryLater(key, now() + remaining);
        });
      }
      return token.id;
    },

    verify(value) {
      negative.delete(value);
      inflight.delete(value);
      const token = open(value);
      if (token === undefined) return Promise.resolve(ANONYMOUS);
      return start(value, token, keyOf(token.id), undefined, false);
    },

    size() {
      revoked.purgeStale();
      return { positive: positive.size, negative: negative.size, inflight: inflight.size, tombstones: revoked.size };
    },
  };
}

/** A cache entry, in one shape (the optional `alias` aside), with the links its index sets. */
function entryOf(value: string, state: AuthState, at: number, key: string, session: SessionClock, alias?: string): Entry {
  return alias === undefined
    ? { sieveKey: value, visited: false, newer: undefined, older: undefined, state, at, key, session }
    : { sieveKey: value, visited: false, newer: undefined, older: undefined, state, at, key, session, alias };
}

/** The upstream identityId of an entry: its identity's, not kept twice. */
function idOf(entry: Entry): string {
  return rawIdentityId(entry.state.identity!)!;
}

function tokenOf(entry: Entry): SessionToken {
  return { id: idOf(entry), issuedAt: entry.session.since, signed: true };
}
