interface Slot<V> {
  value: V;
  /** Clock reading when the entry was set. */
  start: number;
  /** Its time to live, ms (0: none). */
  ttl: number;
}

/**
 * A map bounded to `max` entries, least recently used first out, whose
 * entries expire `ttl` ms after they were set: the subset of lru-cache's
 * behaviour (with `ttl`, no `allowStale`, no age update on read) that
 * idgate's tombstones, negative cache and login counters use, in memory
 * that grows with the entries held. lru-cache allocates its storage for
 * `max` entries up front (about 40 bytes each, 4 MB for the default
 * 100,000 tombstones) before the first one.
 *
 * As in lru-cache: `get` marks an entry used, `has` does not; `set` marks
 * it used and starts its ttl again; an entry is stale once more than its
 * ttl has passed (`now - start > ttl`), and one set at clock reading 0 never
 * is; stale entries are dropped when read (`get`) and by `purgeStale`; when
 * full, `set` of a new key drops the least recently used entry, stale or not.
 * Unlike lru-cache, `has` also drops a stale entry it finds (lru-cache leaves
 * it for `get` or `purgeStale`): only `size` can tell.
 * @example
 * const revoked = new ExpiringMap<string, true>({ max: 100_000, ttl: 60_000 });
 * revoked.set(key, true, 5_000); revoked.has(key); // true, for 5 s
 */
export class ExpiringMap<K, V> {
  // Insertion order is recency order: the first key is the least recently used.
  private readonly map = new Map<K, Slot<V>>();
  /** The most entries kept. */
  readonly max: number;
  private readonly ttl: number;
  private readonly now: () => number;

  /**
   * @param options.max the most entries kept (a positive integer).
   * @param options.ttl default time to live, ms (0: entries never expire).
   * @param options.now the clock, ms (default: `performance.now`, monotonic, as lru-cache's).
   */
  constructor(options: { max: number; ttl: number; now?: () => number }) {
    if (!Number.isInteger(options.max) || options.max < 1) throw new RangeError('ExpiringMap: max must be a positive integer');
    if (!(options.ttl >= 0)) throw new RangeError('ExpiringMap: ttl must be a non-negative number');
    this.max = options.max;
    this.ttl = options.ttl;
    this.now = options.now ?? (() => performance.now());
  }

  /** Entries held, stale ones not yet dropped included. */
  get size(): number {
    return this.map.size;
  }

  /** The value for `key`, marking it the most recently used; undefined when absent or stale (then dropped). */
  get(key: K): V | undefined {
    const slot = this.map.get(key);
    if (slot === undefined) return undefined;
    this.map.delete(key);
    if (this.stale(slot)) return undefined;
    this.map.set(key, slot);
    return slot.value;
  }

  /** True when `key` is held and not stale (a stale entry is dropped); does not mark it used. */
  has(key: K): boolean {
    const slot = this.map.get(key);
    if (slot === undefined) return false;
    if (!this.stale(slot)) return true;
    this.map.delete(key);
    return false;
  }

  /** Store `value` under `key` as the most recently used, for `ttl` ms (default: the map's) from now. */
  set(key: K, value: V, ttl: number = this.ttl): this {
    const start = ttl === 0 ? 0 : this.now();
    const slot = this.map.get(key);
    if (slot !== undefined) {
      this.map.delete(key);
      slot.value = value;
      slot.start = start;
      slot.ttl = ttl;
    } else if (this.map.size >= this.max) {
      this.map.delete(this.map.keys().next().value as K);
    }
    this.map.set(key, slot ?? { value, start, ttl });
    return this;
  }

  /** Remove `key`; true when it was held (stale or not). */
  delete(key: K): boolean {
    return this.map.delete(key);
  }

  /** Keys not stale, least recently used first (for tests and diagnostics). */
  *keys(): IterableIterator<K> {
    for (const [key, slot] of this.map) if (!this.stale(slot)) yield key;
  }

  /** Drop every stale entry. */
  purgeStale(): void {
    for (const [key, slot] of this.map) if (this.stale(slot)) this.map.delete(key);
  }

  private stale(slot: Slot<V>): boolean {
    return slot.ttl !== 0 && slot.start !== 0 && this.now() - slot.start > slot.ttl;
  }
}
