import fc from 'fast-check';
import { LRUCache } from 'lru-cache';
import { describe, expect, it } from 'vitest';
import { ExpiringMap, ExpiringSet } from './expiring.js';

type Op =
  | { op: 'get' | 'has' | 'delete'; key: number }
  | { op: 'set'; key: number; value: number; ttl: number | undefined }
  | { op: 'tick'; ms: number }
  | { op: 'purge' };

const key = fc.integer({ min: 0, max: 9 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constantFrom('get' as const, 'has' as const, 'delete' as const), key }),
  fc.record({ op: fc.constant('set' as const), key, value: fc.integer(), ttl: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }) }),
  fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 25 }) }),
  fc.record({ op: fc.constant('purge' as const) }),
);

describe('ExpiringMap', () => {
  // The model is the lru-cache configuration it replaces: max, default ttl,
  // an injected clock read on every check (ttlResolution 0).
  it('property: answers as lru-cache with ttl does, op for op (gets, has, sets, deletes, expiry, eviction order)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 30 }), fc.constantFrom(0, 1, 1_000), fc.array(op, { maxLength: 80 }), (max, ttl, start, ops) => {
        let t = start;
        const now = () => t;
        const model = new LRUCache<number, number>({ max, ttl, perf: { now }, ttlResolution: 0 });
        const map = new ExpiringMap<number, number>({ max, ttl, now });
        for (const o of ops) {
          if (o.op === 'get') expect(map.get(o.key)).toBe(model.get(o.key));
          else if (o.op === 'has') expect(map.has(o.key)).toBe(model.has(o.key));
          else if (o.op === 'delete') expect(map.delete(o.key)).toBe(model.delete(o.key));
          else if (o.op === 'set') {
            if (o.ttl === undefined) {
              map.set(o.key, o.value);
              model.set(o.key, o.value);
            } else {
              map.set(o.key, o.value, o.ttl);
              model.set(o.key, o.value, { ttl: o.ttl });
            }
          } else if (o.op === 'tick') t += o.ms;
          else {
            map.purgeStale();
            model.purgeStale();
            expect(map.size).toBe(model.size);
          }
          // What both hold and would answer, least recently used first.
          expect([...map.keys()]).toEqual([...model.rkeys()]);
          expect(map.size).toBeLessThanOrEqual(max);
        }
      }),
      { numRuns: 3_000, seed: 11 },
    );
  });

  it('property: ExpiringSet answers as lru-cache of `true` values does (has, add with ttl, delete, expiry, eviction order)', () => {
    const setOp = op.filter((o) => o.op !== 'get');
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 30 }), fc.constantFrom(0, 1, 1_000), fc.array(setOp, { maxLength: 80 }), (max, ttl, start, ops) => {
        let t = start;
        const now = () => t;
        const model = new LRUCache<number, true>({ max, ttl, perf: { now }, ttlResolution: 0 });
        const set = new ExpiringSet<number>({ max, ttl, now });
        for (const o of ops) {
          if (o.op === 'has') expect(set.has(o.key)).toBe(model.has(o.key));
          else if (o.op === 'delete') expect(set.delete(o.key)).toBe(model.delete(o.key));
          else if (o.op === 'set') {
            if (o.ttl === undefined) (set.add(o.key), model.set(o.key, true));
            else (set.add(o.key, o.ttl), model.set(o.key, true, { ttl: o.ttl }));
          } else if (o.op === 'tick') t += o.ms;
          else if (o.op === 'purge') {
            set.purgeStale();
            model.purgeStale();
            expect(set.size).toBe(model.size);
          }
          expect([...set.keys()]).toEqual([...model.rkeys()]);
        }
      }),
      { numRuns: 2_000, seed: 12 },
    );
  });

  it('holds nothing until used: its memory grows with the entries, not with max', () => {
    const map = new ExpiringMap<string, true>({ max: 1_000_000, ttl: 1_000 });
    expect(map.size).toBe(0);
    map.set('a', true);
    expect(map.size).toBe(1);
  });

  it('drops a stale entry when asked about it (has), which lru-cache leaves for get or purgeStale', () => {
    let t = 10;
    const map = new ExpiringMap<string, true>({ max: 4, ttl: 5, now: () => t });
    map.set('a', true);
    t = 16;
    expect(map.has('a')).toBe(false);
    expect(map.size).toBe(0);
  });

  it('refuses a max that is not a positive integer', () => {
    expect(() => new ExpiringMap({ max: 0, ttl: 1 })).toThrow(RangeError);
    expect(() => new ExpiringMap({ max: 1.5, ttl: 1 })).toThrow(RangeError);
  });
});
