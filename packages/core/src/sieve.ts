/** Why an entry left a `SieveIndex`: evicted to make room, or deleted (`delete`, `clear`). */
export type SieveRemoval = 'evict' | 'delete';

/**
 * The fields a node of a `SieveIndex` carries for the index: the node is the
 * entry itself, so an index of n entries holds n objects, not 2n.
 */
export interface SieveNode<K, N> {
  /** The key the node is held under; never changes. */
  readonly sieveKey: K;
  /** Read since the hand last passed it. Set by the index. */
  visited: boolean;
  /** The next newer node (toward the head). Set by the index. */
  newer: N | undefined;
  /** The next older node (toward the tail). Set by the index. */
  older: N | undefined;
}

/**
 * A map bounded to `max` entries with SIEVE eviction (Zhang et al., "SIEVE
 * is Simpler than LRU", NSDI '24), over nodes that carry their own links
 * (`SieveNode`). A hit is one `Map` lookup and one flag set: no reordering,
 * no allocation, which is what the cache hit of every signed-in request
 * needs. Entries are kept newest first; to make room, a hand walks from the
 * oldest toward the newest, clearing the flag of each visited entry it
 * passes, and evicts the first one not visited since the hand last passed
 * it. So an entry read at least once per sweep stays, and one read once and
 * never again goes first.
 * @example
 * const index = new SieveIndex<string, Entry>(10_000, (entry, reason) => forget(entry));
 * index.set({ sieveKey: value, visited: false, newer: undefined, older: undefined, ...fields }); index.get(value);
 */
export class SieveIndex<K, N extends SieveNode<K, N>> {
  private readonly map = new Map<K, N>();
  private head: N | undefined;
  private tail: N | undefined;
  private hand: N | undefined;

  /**
   * @param max the most entries kept (a positive integer).
   * @param onRemove called for every node that leaves, by eviction, `delete` or `clear`; not when `set` replaces one.
   */
  constructor(
    readonly max: number,
    private readonly onRemove?: (node: N, reason: SieveRemoval) => void,
  ) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError('SieveIndex: max must be a positive integer');
  }

  /** Entries held. */
  get size(): number {
    return this.map.size;
  }

  /** The node held under `key`, marking it visited; undefined when absent. */
  get(key: K): N | undefined {
    const node = this.map.get(key);
    if (node !== undefined) node.visited = true;
    return node;
  }

  /** The node held under `key` without marking it visited. */
  peek(key: K): N | undefined {
    return this.map.get(key);
  }

  /** True when `key` is held (does not mark it visited). */
  has(key: K): boolean {
    return this.map.has(key);
  }

  /**
   * Hold `node` under its `sieveKey`: a new key goes in as the newest,
   * unvisited; a node replacing another under the same key takes its place
   * and flag (the replaced one is unlinked, and not reported as removed).
   */
  set(node: N): this {
    const key = node.sieveKey;
    const existing = this.map.get(key);
    if (existing === node) return this;
    if (existing !== undefined) {
      node.visited = existing.visited;
      node.newer = existing.newer;
      node.older = existing.older;
      if (node.newer !== undefined) node.newer.older = node;
      else this.head = node;
      if (node.older !== undefined) node.older.newer = node;
      else this.tail = node;
      if (this.hand === existing) this.hand = node;
      existing.newer = existing.older = undefined;
      this.map.set(key, node);
      return this;
    }
    if (this.map.size >= this.max) this.evict();
    node.visited = false;
    node.newer = undefined;
    node.older = this.head;
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
    this.onRemove?.(node, 'delete');
    return true;
  }

  /** Remove every entry (each reported to `onRemove` as deleted). */
  clear(): void {
    const nodes = [...this.map.values()];
    this.map.clear();
    this.head = this.tail = this.hand = undefined;
    for (const node of nodes) node.newer = node.older = undefined;
    if (this.onRemove) for (const node of nodes) this.onRemove(node, 'delete');
  }

  /** Keys, newest first (for tests and diagnostics). */
  *keys(): IterableIterator<K> {
    for (let node = this.head; node !== undefined; node = node.older) yield node.sieveKey;
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
    this.onRemove?.(node, 'evict');
  }

  private unlink(node: N): void {
    if (this.hand === node) this.hand = node.newer;
    if (node.newer !== undefined) node.newer.older = node.older;
    else this.head = node.older;
    if (node.older !== undefined) node.older.newer = node.newer;
    else this.tail = node.newer;
    node.newer = node.older = undefined;
    this.map.delete(node.sieveKey);
  }
}
