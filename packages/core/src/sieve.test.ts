import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SieveIndex, type SieveNode, type SieveRemoval } from './sieve.js';

interface Node<K, V> extends SieveNode<K, Node<K, V>> {
  value: V;
}

/**
 * A map bounded to `max` entries with SIEVE eviction over `SieveIndex`, whose
 * nodes wrap plain values: the shape the model below is written in (the
 * verifier's entries are their own nodes).
 * @example
 * const cache = new SieveCache<string, number>(10_000, (value, key, reason) => forget(key));
 * cache.set(key, 1); cache.get(key);
 */
class SieveCache<K, V> {
  private readonly index: SieveIndex<K, Node<K, V>>;

  /**
   * @param max the most entries kept (a positive integer).
   * @param onRemove called for every entry that leaves, by eviction, `delete` or `clear`; not when `set` replaces a value.
   */
  constructor(max: number, onRemove?: (value: V, key: K, reason: SieveRemoval) => void) {
    this.index = new SieveIndex<K, Node<K, V>>(max, onRemove && ((node, reason) => onRemove(node.value, node.sieveKey, reason)));
  }

  /** The most entries kept. */
  get max(): number {
    return this.index.max;
  }

  /** Entries held. */
  get size(): number {
    return this.index.size;
  }

  /** The value for `key`, marking it visited; undefined when absent. */
  get(key: K): V | undefined {
    return this.index.get(key)?.value;
  }

  /** The value for `key` without marking it visited. */
  peek(key: K): V | undefined {
    return this.index.peek(key)?.value;
  }

  /** True when `key` is held (does not mark it visited). */
  has(key: K): boolean {
    return this.index.has(key);
  }

  /** Store `value` under `key`: a new key goes in as the newest, unvisited; an existing one keeps its place and flag. */
  set(key: K, value: V): this {
    // A fresh node each time, replacing any held one: the index's replacement path, exercised by this class's tests.
    this.index.set({ sieveKey: key, value, visited: false, newer: undefined, older: undefined });
    return this;
  }

  /** Remove `key`; true when it was held. */
  delete(key: K): boolean {
    return this.index.delete(key);
  }

  /** Remove every entry (each reported to `onRemove` as deleted). */
  clear(): void {
    this.index.clear();
  }

  /** Keys, newest first (for tests and diagnostics). */
  keys(): IterableIterator<K> {
    return this.index.keys();
  }
}

/**
 * SIEVE written the plain way, as the paper's pseudo-code: an array newest
 * first, a hand index walking from the oldest toward the newest.
 */
class Model {
  items: { key: number; value: number; visited: boolean }[] = [];
  hand: number | undefined; // index into items, or undefined: start at the oldest
  removed: [number, string][] = [];
  constructor(readonly max: number) {}
  get(key: number) {
    const item = this.items.find((i) => i.key === key);
    if (item) item.visited = true;
    return item?.value;
  }
  set(key: number, value: number) {
    const item = this.items.find((i) => i.key === key);
    if (item) return void (item.value = value);
    if (this.items.length >= this.max) this.evict();
    this.items.unshift({ key, value, visited: false });
    if (this.hand !== undefined) this.hand++;
  }
  delete(key: number) {
    const at = this.items.findIndex((i) => i.key === key);
    if (at === -1) return;
    this.removeAt(at, 'delete');
  }
  private removeAt(at: number, reason: string) {
    const [item] = this.items.splice(at, 1);
    this.removed.push([item!.key, reason]);
    if (this.hand === undefined) return;
    // The hand was on the removed item: it moves to the next newer one (index at - 1).
    if (this.hand === at) this.hand = at === 0 ? undefined : at - 1;
    else if (this.hand > at) this.hand--;
  }
  private evict() {
    let at = this.hand ?? this.items.length - 1;
    while (this.items[at]!.visited) {
      this.items[at]!.visited = false;
      at = at === 0 ? this.items.length - 1 : at - 1;
    }
    this.removeAt(at, 'evict');
    this.hand = at === 0 ? undefined : at - 1; // the next newer one; past the newest, the oldest again
  }
}

describe('SieveCache', () => {
  it('agrees with a plain model of SIEVE on every sequence of get, set and delete (values, order, removals)', () => {
    const op = fc.oneof(
      fc.record({ op: fc.constant('get' as const), key: fc.integer({ min: 0, max: 12 }) }),
      fc.record({ op: fc.constant('set' as const), key: fc.integer({ min: 0, max: 12 }), value: fc.integer() }),
      fc.record({ op: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 12 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(op, { maxLength: 200 }), (max, ops) => {
        const removed: [number, string][] = [];
        const cache = new SieveCache<number, number>(max, (_v, key, reason) => removed.push([key, reason]));
        const model = new Model(max);
        for (const o of ops) {
          if (o.op === 'get') expect(cache.get(o.key)).toBe(model.get(o.key));
          else if (o.op === 'set') (cache.set(o.key, o.value), model.set(o.key, o.value));
          else (cache.delete(o.key), model.delete(o.key));
          expect(cache.size).toBeLessThanOrEqual(max);
          expect([...cache.keys()]).toEqual(model.items.map((i) => i.key));
        }
        expect(removed).toEqual(model.removed);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps what is read between sweeps and evicts a one-time entry first (scan resistance)', () => {
    const cache = new SieveCache<string, number>(3);
    cache.set('hot', 1).set('a', 2).set('b', 3);
    cache.get('hot');
    for (let i = 0; i < 50; i++) {
      cache.set(`scan${i}`, i);
      expect(cache.get('hot')).toBe(1);
    }
    expect(cache.size).toBe(3);
  });

  it('a value set again under a held key keeps its place and its visited flag (the index replaces the node in place)', () => {
    const cache = new SieveCache<number, number>(2);
    cache.set(1, 1).set(2, 2);
    cache.get(1);
    cache.set(1, 5); // visited, and still the oldest
    cache.set(3, 3); // the hand passes 1 (visited) and evicts 2
    expect([...cache.keys()]).toEqual([3, 1]);
    expect(cache.get(1)).toBe(5);
  });

  it('peek and has do not mark an entry visited; clear reports every entry; max must be a positive integer', () => {
    const removed: string[] = [];
    const cache = new SieveCache<string, number>(2, (_v, key, reason) => removed.push(`${key}:${reason}`));
    cache.set('a', 1).set('b', 2);
    expect(cache.peek('a')).toBe(1);
    expect(cache.has('a')).toBe(true);
    cache.set('c', 3); // a was not visited: the oldest goes
    expect(removed).toEqual(['a:evict']);
    cache.clear();
    expect(removed).toEqual(['a:evict', 'b:delete', 'c:delete']);
    expect(cache.size).toBe(0);
    expect(() => new SieveCache(0)).toThrow(RangeError);
    expect(() => new SieveCache(1.5)).toThrow(RangeError);
  });
});
