// Section 4, in its own process (`node --expose-gc bench/memory.mjs <n>`):
// heap bytes per cached identity. The identities go through the real path
// (cookie header -> authenticate -> upstream client -> zod -> cache); only the
// wire is replaced by an in-process `fetch` answering a typical profile, so
// the heap measured is idgate's and not a mock server's. The figure per
// identity includes the gate's own fixed cost (its heap before any request,
// also printed as gateBytes): at 10,000 identities that cost shows.
import { createIdgate, sessionKeys, signSession } from '@idgate/core/adapter';
// The secret of `base` below: the cookies here are signed as idgate issues them.
const keys = sessionKeys(['bench-secret-0123456789abcdef']);

const n = Number(process.argv[2]);
if (!Number.isInteger(n) || n <= 0 || typeof globalThis.gc !== 'function') {
  throw new Error('usage: node --expose-gc bench/memory.mjs <identities>');
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** A distinct 32-character identityId for i, built fresh each time (nothing here keeps a copy). */
function identityId(i) {
  let s = '';
  let x = i;
  for (let k = 0; k < 8; k++) {
    s += ALPHABET[x % 62];
    x = Math.floor(x / 62);
  }
  return `${s}Qm7Zp2Lx9Vb4Nc8Rt1Ws6Yd3Kf5Hg0J`.slice(0, 32);
}

/** The profile the mock upstream answers for a customer, with a few typical attributes. */
function profileBody(id) {
  const n = id.slice(0, 8);
  return JSON.stringify({
    success: true,
    contact: { id: `c_${n}`, email: `customer.${n.toLowerCase()}@example.com`, name: `Customer ${n}`, plan: 'pro', locale: 'en-GB', country: 'GB', createdAt: '2024-03-01T10:00:00Z' },
  });
}

const fetch = async (_url, init) => {
  const { identityId: id } = JSON.parse(init.body);
  return new Response(profileBody(id), { status: 200, headers: { 'content-type': 'application/json' } });
};

// Typical browser Cookie header: the session cookie (signed, as idgate issues it) among a few others.
const ISSUED = Date.now();
const cookieHeader = (id) => `_ga=GA1.1.1234567890.1700000000; theme=dark; identityId=${signSession(keys, id, ISSUED)}; consent=analytics%3Dfalse%26marketing%3Dfalse`;

async function fill(gate, from, to) {
  const BATCH = 256;
  for (let i = from; i < to; i += BATCH) {
    const pending = [];
    for (let j = i; j < Math.min(to, i + BATCH); j++) pending.push(gate.authenticate({ headers: { cookie: cookieHeader(identityId(j)) } }));
    const states = await Promise.all(pending);
    for (const s of states) if (s.status !== 'authenticated') throw new Error(`identity not authenticated: ${s.status}`);
  }
}

/** Full GCs, with a turn of the event loop between them so FinalizationRegistry callbacks (AbortSignal.timeout's) run too. */
async function settle() {
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  globalThis.gc();
  return process.memoryUsage();
}

// Short upstream timeouts (and a wait below) keep any timer an upstream call
// left armed out of the per-identity figure (idgate's own clears its timer
// once answered) without changing what the cache holds.
const base = { upstreamUrl: 'http://127.0.0.1:9', apiKey: 'DEV_idgateMockUpstreamLocalKey00', secret: 'bench-secret-0123456789abcdef', fetch, upstream: { timeout: 500, totalTimeout: 500 } };
const lapse = () => new Promise((resolve) => setTimeout(resolve, 700));
// Warm every code path once in a throwaway gate, so the measurement holds data, not compiled code.
await fill(createIdgate({ ...base, cache: { max: 2_000 } }), n + 1, n + 2_001);
await lapse();
const before = await settle();
const gate = createIdgate({ ...base, cache: { max: n, negativeMax: 1 } });
const built = await settle();
await fill(gate, 0, n);
await lapse();
const after = await settle();
const size = gate.verifier.size();
if (size.positive !== n) throw new Error(`expected ${n} cached identities, found ${size.positive}`);
// Every one of them is now a synchronous hit.
for (let i = 0; i < n; i += Math.max(1, Math.floor(n / 100))) {
  if (gate.authenticate({ headers: { cookie: cookieHeader(identityId(i)) } }) instanceof Promise) throw new Error(`identity ${i} is not a cache hit`);
}
const heap = after.heapUsed - before.heapUsed;
const external = after.external + after.arrayBuffers - (before.external + before.arrayBuffers);
process.stdout.write(`${JSON.stringify({ n, heapBytesPerIdentity: heap / n, externalBytesPerIdentity: external / n, gateBytes: built.heapUsed - before.heapUsed, heapUsedMB: after.heapUsed / 2 ** 20 })}\n`);
// Keep the gate reachable until after the last measurement.
globalThis.keep = gate;
