// Development tool, in its own process (`node --expose-gc bench/tombstones.mjs <n>`):
// heap bytes per logged-out session kept in process (the tombstone, its
// store key, and the negative-cache entry a logout also writes, bounded by
// `cache.negativeMax`). n signed cookies go through `verifier.invalidate`
// (no upstream call: a signed cookie is tombstoned on its own); the heap is
// measured after forced GCs, before and after, with the gate already built,
// so the figure is what grows with logouts (bench/memory.mjs measures the
// gate's own fixed cost).
import { Buffer } from 'node:buffer';
import { createIdgate, sessionKeys, signSession } from '@idgate/core/adapter';

const SECRET = 'bench-secret-0123456789abcdef';
const keys = sessionKeys([SECRET]);
const n = Number(process.argv[2]);
if (!Number.isInteger(n) || n <= 0 || typeof globalThis.gc !== 'function') {
  throw new Error('usage: node --expose-gc bench/tombstones.mjs <logouts>');
}
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const fetch = async () => {
  throw new Error('no upstream call expected');
};
const gate = createIdgate({ upstreamUrl: 'http://127.0.0.1:9', apiKey: 'DEV_idgateMockUpstreamLocalKey00', secret: SECRET, fetch, cache: { tombstoneMax: Math.max(n, 1) } });
const values = [];
for (let i = 0; i < n; i++) {
  let s = '';
  for (let k = 0, x = i; k < 8; k++, x = Math.floor(x / 62)) s += ALPHABET[x % 62];
  // Flat copies: reading a concatenated string flattens it, which would show as memory freed during the run.
  values.push(Buffer.from(signSession(keys, `${s}Qm7Zp2Lx9Vb4Nc8Rt1Ws6Yd3Kf5Hg0J`.slice(0, 32), Date.now()), 'latin1').toString('latin1'));
}
const settle = () => {
  for (let i = 0; i < 4; i++) globalThis.gc();
  return process.memoryUsage().heapUsed;
};
const before = settle();
for (const value of values) await gate.verifier.invalidate(value);
const after = settle();
const { tombstones } = gate.verifier.size();
if (tombstones !== n) throw new Error(`expected ${n} tombstones, found ${tombstones}`);
process.stdout.write(`${JSON.stringify({ n, heapBytesPerTombstone: (after - before) / n })}\n`);
globalThis.keep = [gate, values];
