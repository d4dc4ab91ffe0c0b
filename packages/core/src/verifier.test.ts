import { describe, expect, it } from 'vitest';
import v8 from 'node:v8';
import vm from 'node:vm';
import { resolveConfig } from './config.js';
import { silentLogger } from './logger.js';
import type { UpstreamClient } from './upstream.js';
import { createVerifier } from './verifier.js';
import { signSession } from './session.js';

// The upstream here is an in-process answerer: these tests measure the cache
// itself (bounds, bytes), not the wire, which test/ covers against the mock.
function inProcessUpstream(): UpstreamClient & { calls: number } {
  const client = {
    calls: 0,
    circuit: () => 'closed' as const,
    async login() {
      return 'x'.repeat(32);
    },
    async profile(identityId: string) {
      client.calls++;
      const n = identityId.slice(-6);
      return {
        kind: 'valid' as const,
        profile: { id: `c_${n}`, email: `user${n}@example.com`, name: `User ${n}`, attributes: { plan: 'pro', locale: 'en' } },
      };
    },
    async logout() {},
  };
  return client;
}

const base = { upstreamUrl: 'http://127.0.0.1:1', apiKey: 'DEV_' + 'x'.repeat(28), secret: 'verifier-test-secret-0123456789' };
const keys = resolveConfig(base, {}).keys;
const issued = Date.now();
// The cookie value idgate would have issued for the i-th session.
const idFor = (i: number) => signSession(keys, `A${String(i).padStart(31, '0')}`, issued);

function gc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

describe('verifier cache bounds', () => {
  it('100,000 distinct identities stay under max entries', async () => {
    const upstream = inProcessUpstream();
    const verifier = createVerifier(resolveConfig({ ...base, cache: { max: 10_000 } }, {}), upstream, undefined, silentLogger);
    for (let i = 0; i < 100_000; i++) await verifier.lookup(idFor(i));
    expect(upstream.calls).toBe(100_000);
    expect(verifier.size().positive).toBe(10_000);
    // The newest are hits, the oldest were evicted.
    expect(verifier.lookup(idFor(99_999))).not.toBeInstanceOf(Promise);
    expect(verifier.lookup(idFor(0))).toBeInstanceOf(Promise);
  });

  it('heap per cached identity with a typical profile', async () => {
    const collect = gc();
    const upstream = inProcessUpstream();
    const verifier = createVerifier(resolveConfig({ ...base, cache: { max: 200_000 } }, {}), upstream, undefined, silentLogger);
    collect();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 100_000; i++) await verifier.lookup(idFor(i));
    collect();
    const perEntry = (process.memoryUsage().heapUsed - before) / 100_000;
    console.info(`heap per cached identity: ${Math.round(perEntry)} bytes`);
    expect(verifier.size().positive).toBe(100_000);
    expect(perEntry).toBeLessThan(2_048);
  });

  it('a hit is synchronous and returns the same frozen state', async () => {
    const verifier = createVerifier(resolveConfig(base, {}), inProcessUpstream(), undefined, silentLogger);
    const first = await verifier.lookup(idFor(1));
    const hit = verifier.lookup(idFor(1));
    expect(hit).toBe(first);
    expect(Object.isFrozen(hit)).toBe(true);
    expect(JSON.stringify((hit as typeof first).identity)).not.toContain(idFor(1).slice(0, 32));
  });
});
