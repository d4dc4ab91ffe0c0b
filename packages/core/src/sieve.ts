/** Why an entry left a `SieveCache`: evicted to make room, or deleted (`delete`, `clear`). */
export type SieveRemoval = 'evict' | 'delete';

interface Node<K, V> {
  readonly key: K;
  value: V;
  visited: boolean;
  /** The next newer node (toward the head). */
  newer: Node<K, V> | undefined;
  /** The next older node (toward the tail). */
  older: Node<K, V> | undefined;
}

/**
 * A map bounded to `max` entries with SIEVE eviction (Zhang et al., "SIEVE
 * is Simpler than LRU", NSDI '24). A hit is one `Map` lookup and one flag
 * set: no reordering, no allocation, which is what the cache hit of every
 * signed-in request needs. Entries are kept newest first; to make room, a
 * hand walks from the oldest toward the newest, clearing the flag of each
 * visited entry it passes, and evicts the first one not visited since the
 * hand last passed it. So an entry read at least once per sweep stays, and
 * one read once and never again goes first.
 * @example
 * const cache = new SieveCache<string, Entry>(10_000, (entry, key, reason) => forget(key));
 * cache.set(value, entry); cache.get(value);
 */
export class SieveCache<K, V> {
  private readonly map = new Map<K, Node<K, V>>();
  private head: Node<K, V> | undefined;
  private tail: Node<K, V> | undefined;
  private hand: Node<K, V> | undefined;

  /**
   * @param max the most entries kept (a positive integer).
   * @param onRemove called for every entry that leaves, by eviction, `delete` or `clear`; not when `set` replaces a value.
   */
  constructor(
    readonly max: number,
    private readonly onRemove?: (value: V, key: K, reason: SieveRemoval) => void,
  ) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError('SieveCache: max must be a positive integer');
  }

  /** Entries held. */
  get size(): number {
    return this.map.size;
  }

  /** The value for `key`, marking it visited; undefined when absent. */
  get(key: K): V | undefined {
    const node = this.map.get(key);
    if (node === undefined) return undefined;
    node.visited = true;
    return node.value;
  }

  /** The value for `key` without marking it visited. */
  peek(key: K): V | undefined {
    return this.map.get(key)?.value;
  }

  /** True when `key` is held (does not mark it visited). */
  has(key: K): boolean {
    return this.map.has(key);
  }

  /** Store `value` under `key`: a new key goes in as the newest, unvisited; an existing one keeps its place and flag. */
  set(key: K, value: V): this {
    const existing = this.map.get(key);
    if (existing !== undefined) {
      existing.value = value;
      return this;
    }
    if (this.map.size >= this.max) this.evict();
    const node: Node<K, V> = { key, value, visited: false, newer: undefined, older: this.head };
    if (this.head !== undefined) this.head.newer = node;
    this.head = node;
    this.tail ??= node;
    this.map.set(key, node);
    return this;
  }

  /** Remove `key`; true when it was held. */
  delete(key: K): boolean {
    const node = this.map.get(key);
    if (node === undefined) return false;
    this.unlink(node);
    this.onRemove?.(node.value, key, 'delete');
    return true;
  }

  /** Remove every entry (each reported to `onRemove` as deleted). */
  clear(): void {
    const nodes = [...this.map.values()];
    this.map.clear();
    this.head = this.tail = this.hand = undefined;
    if (this.onRemove) for (const node of nodes) this.onRemove(node.value, node.key, 'delete');
  }

  /** Keys, newest first (for tests and diagnostics). */
  *keys(): IterableIterator<K> {
    for (let node = this.head; node !== undefined; node = node.older) yield node.key;
  }

  private evict(): void {
    let node = this.hand ?? this.tail;
    // Terminates: each step clears a flag, so within two sweeps an unvisited entry is found.
    while (node !== undefined && node.visited) {
      node.visited = false;
      node = node.newer ?? this.tail;
    }
    if (node === undefined) return;
    this.hand = node.newer;
    this.unlink(node);
    this.onRemove?.(node.value, node.key, 'evict');
  }

  private unlink(node: Node<K, V>): void {
    if (this.hand === node) this.hand = node.newer;
    if (node.newer !== undefined) node.newer.older = node.older;
    else this.head = node.older;
    if (node.older !== undefined) node.older.newer = node.newer;
    else this.tail = node.newer;
    node.newer = node.older = undefined;
    this.map.delete(node.key);
  }
}
