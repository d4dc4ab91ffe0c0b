/**
 * The recency order, bound and lazy expiry shared by `ExpiringMap` and
 * `ExpiringSet`: a `Map` in recency order (its first key is the least
 * recently used) of items that each know when they expire.
 */
abstract class Expiring<K, S> {
  protected readonly map = new Map<K, S>();
  /** The most entries kept. */
  readonly max: number;
  /** Default time to live, ms (0: none). */
  protected readonly ttl: number;
  protected readonly now: () => number;

  constructor(options: { max: number; ttl: number; now?: (() => number) | undefined }) {
    if (!Number.isInteger(options.max) || options.max < 1) throw new RangeError(`${new.target.name}: max must be a positive integer`);
    if (!(options.ttl >= 0)) throw new RangeError(`${new.target.name}: ttl must be a non-negative number`);
    this.max = options.max;
    this.ttl = options.ttl;
    this.now = options.now ?? (() => performance.now());
  }

  /** Clock reading after which an item is stale. */
  protected abstract untilOf(item: S): number;

  /** Entries held, stale ones not yet dropped included. */
  get size(): number {
    return this.map.size;
  }

  /** True when `key` is held and not stale (a stale entry is dropped); does not mark it used. */
  has(key: K): boolean {
    const item = this.map.get(key);
    if (item === undefined) return false;
    if (this.now() <= this.untilOf(item)) return true;
    this.map.delete(key);
    return false;
  }

  /** Remove `key`; true when it was held (stale or not). */
  delete(key: K): boolean {
    return this.map.delete(key);
  }

  /** Keys not stale, least recently used first (for tests and diagnostics). */
  *keys(): IterableIterator<K> {
    for (const [key, item] of this.map) if (this.now() <= this.untilOf(item)) yield key;
  }

  /** Drop every stale entry. */
  purgeStale(): void {
    const t = this.now();
    for (const [key, item] of this.map) if (t > this.untilOf(item)) this.map.delete(key);
  }

  /** When an entry set now for `ttl` ms goes stale: never for a ttl of 0 or (as in lru-cache) a clock reading of 0. */
  protected expiry(ttl: number): number {
    if (ttl === 0) return Infinity;
    const start = this.now();
    return start === 0 ? Infinity : start + ttl;
  }

  /** Hold `item` under `key` as the most recently used, making room first. */
  protected put(key: K, item: S): void {
    if (!this.map.delete(key) && this.map.size >= this.max) this.map.delete(this.map.keys().next().value as K);
    this.map.set(key, item);
  }
}

interface Slot<V> {
  value: V;
  /** Clock reading after which the entry is stale. */
  until: number;
}

/**
 * A map bounded to `max` entries, least recently used first out, whose
 * entries expire `ttl` ms after they were set: the subset of lru-cache's
 * behaviour (with `ttl`, no `allowStale`, no age update on read) that
 * idgate's negative cache and login counters use, in memory that grows with
 * the entries held. lru-cache allocates its storage for `max` entries up
 * front (about 40 bytes each) before the first one.
 *
 * As in lru-cache: `get` marks an entry used, `has` does not; `set` marks
 * it used and starts its ttl again; an entry is stale once more than its
 * ttl has passed, and one set at clock reading 0 never is; stale entries are
 * dropped when read (`get`) and by `purgeStale`; when full, `set` of a new
 * key drops the least recently used entry, stale or not. Unlike lru-cache,
 * `has` also drops a stale entry it finds (lru-cache leaves it for `get` or
 * `purgeStale`): only `size` can tell.
 * @example
 * const negative = new ExpiringMap<string, AuthState>({ max: 10_000, ttl: 10_000 });
 * negative.set(value, EXPIRED); negative.get(value); // EXPIRED, for 10 s
 */
export class ExpiringMap<K, V> extends Expiring<K, Slot<V>> {
  /**
   * @param options.max the most entries kept (a positive integer).
   * @param options.ttl default time to live, ms (0: entries never expire).
   * @param options.now the clock, ms (default: `performance.now`, monotonic, as lru-cache's).
   */
  constructor(options: { max: number; ttl: number; now?: (() => number) | undefined }) {
    super(options);
  }

  protected untilOf(slot: Slot<V>): number {
    return slot.until;
  }

  /** The value for `key`, marking it the most recently used; undefined when absent or stale (then dropped). */
  get(key: K): V | undefined {
    const slot = this.map.get(key);
    if (slot === undefined) return undefined;
    this.map.delete(key);
    if (this.now() > slot.until) return undefined;
    this.map.set(key, slot);
    return slot.value;
  }

  /** Store `value` under `key` as the most recently used, for `ttl` ms (default: the map's) from now. */
  set(key: K, value: V, ttl: number = this.ttl): this {
    this.put(key, { value, until: this.expiry(ttl) });
    return this;
  }
}

/**
 * An `ExpiringMap` of keys alone (tombstones): each entry is its expiry, a
 * number, with no slot object around it.
 * @example
 * const revoked = new ExpiringSet<string>({ max: 100_000, ttl: 60_000 });
 * revoked.add(key, 5_000); revoked.has(key); // true, for 5 s
 */
export class ExpiringSet<K> extends Expiring<K, number> {
  /**
   * @param options.max the most entries kept (a positive integer).
   * @param options.ttl default time to live, ms (0: entries never expire).
   * @param options.now the clock, ms (default: `performance.now`, monotonic, as lru-cache's).
   */
  constructor(options: { max: number; ttl: number; now?: (() => number) | undefined }) {
    super(options);
  }

  protected untilOf(until: number): number {
    return until;
  }

  /** Hold `key` as the most recently used, for `ttl` ms (default: the set's) from now. */
  add(key: K, ttl: number = this.ttl): this {
    this.put(key, this.expiry(ttl));
    return this;
  }
}
