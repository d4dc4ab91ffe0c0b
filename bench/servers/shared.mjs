// What every benchmark server shares: its configuration (passed by the runner
// in BENCH_CONFIG), the user the protected route answers with, and the
// hand-written floor (variant b) every framework's floor uses.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LRUCache } from 'lru-cache';
import { refreshEveryMs } from '../lib/refresh.mjs';

/** @type {{ upstreamUrl?: string, apiKey?: string, secret: string, warmId?: string, idgate?: object, redisUrl?: string, redisPrefix?: string }} */
export const config = JSON.parse(process.env.BENCH_CONFIG ?? '{}');

// BENCH_APP_MODULES=N: every server first loads N one-line ES modules, standing
// in for an application's own. Past about 15 ES modules in a process, Node 20
// compiles its own HTTP code with generic calls and stores (~850 instructions
// per request on Fastify, whatever the modules do); idgate's graph (zod's
// ~150 modules) is past it, the floor's is not (bench/PROFILE.md, fifth pass).
// Off by default: the published numbers are without it.
const appModules = Number(process.env.BENCH_APP_MODULES ?? 0);
if (appModules > 0) {
  const dir = mkdtempSync(join(tmpdir(), 'idgate-bench-app-'));
  for (let i = 0; i < appModules; i++) writeFileSync(join(dir, `m${i}.mjs`), `export const f${i} = () => ${i};\n`);
  writeFileSync(join(dir, 'index.mjs'), Array.from({ length: appModules }, (_, i) => `export * from './m${i}.mjs';\n`).join(''));
  await import(pathToFileURL(join(dir, 'index.mjs')).href);
  rmSync(dir, { recursive: true, force: true });
}

/** The signed-in user every variant serves; the protected route answers `{ id, email }` of it. */
export const USER = Object.freeze({ id: 'c_demo', email: 'demo@example.com', name: 'Demo Customer' });

/** The route under load. */
export const ROUTE = '/api/me';
/** Outside the measured path: the runner reads the server's own counters here after a load. */
export const STATS = '/__bench/stats';
/** Session variants only: establishes the session the load then reuses. */
export const LOGIN = '/__bench/login';

export const UNAUTHENTICATED = Object.freeze({ error: 'UNAUTHENTICATED' });

/**
 * The floor (variant b): the least a cache-based check can do. It finds the
 * cookie with one indexOf (no boundary check, no quoting: less careful than
 * any real parser) and looks the value up in an lru-cache.
 */
export function cookieValue(header, prefix) {
  if (header === undefined) return undefined;
  const at = header.indexOf(prefix);
  if (at === -1) return undefined;
  const start = at + prefix.length;
  const end = header.indexOf(';', start);
  return end === -1 ? header.slice(start) : header.slice(start, end);
}

/**
 * The floor's cache and lookup. `lru`, `lru-nostore` (b, b′): the cache starts
 * empty, and the first request for an identity misses and fetches it from the
 * upstream (`fetchProfile`, once), as any cache-based check has to fill its
 * cache; every later request is a hit, answered synchronously. `*-seeded`: the
 * warm identity is put in the cache at start, so the process never calls the
 * upstream or answers asynchronously. That was the floor until 2026-11-30: a
 * process that never has makes Node's own HTTP code cheaper per request than
 * any real server's (bench/PROFILE.md, "fourth pass"), so it is kept only to
 * show that difference. `*-refresh` (b′ᵣ): the cache is fetched again in the
 * background on idgate's refresh-ahead schedule (bench/PROFILE.md, sixth pass).
 */
export function floor(variant) {
  const cache = new LRUCache({ max: 10_000 });
  const seeded = variant.endsWith('-seeded');
  if (seeded && config.warmId) cache.set(config.warmId, USER);
  // `*-refresh`: every cached identity is fetched again from the upstream in
  // the background each time idgate's refresh-ahead would re-verify it (its
  // cache ttl, default 60 s, times refreshAhead 0.5), as any check whose
  // sessions can end upstream must; the hit path is unchanged (no clock read).
  if (variant.endsWith('-refresh')) {
    setInterval(() => {
      for (const id of cache.keys()) void fetchProfile(id).then((found) => (found ? cache.set(id, found) : cache.delete(id)), () => {});
    }, refreshEveryMs(config.idgate)).unref();
  }
  return {
    cache,
    /** The user for a cookie value: a hit, or null; else (a miss, not seeded) a promise of the upstream's answer, a user being cached and a refusal not. */
    lookup(id) {
      if (id === undefined) return null;
      const user = cache.get(id);
      if (user !== undefined || seeded) return user ?? null;
      return fetchProfile(id).then((found) => {
        if (found) cache.set(id, found);
        return found;
      });
    },
  };
}

/** idgate's options for the servers: the mock upstream, a fixed secret (Redis keys must match across processes). */
export function idgateOptions(extra = {}) {
  return {
    upstreamUrl: config.upstreamUrl,
    apiKey: config.apiKey,
    secret: config.secret,
    ...config.idgate,
    ...extra,
  };
}

/**
 * The cold-path baseline (variant `fetch`): no cache, no library, one profile
 * call to the upstream per request, made as idgate makes it (POST, Bearer key,
 * JSON body), answering the user or null.
 */
export async function fetchProfile(identityId) {
  if (identityId === undefined) return null;
  const res = await fetch(`${config.upstreamUrl}/api/v1/contact/profile`, {
    method: 'POST',
    headers: { authorization: `Bearer ${config.apiKey}`, 'content-type': 'application/json', accept: 'application/json' },
    // Cookies carry idgate's signed value; the upstream knows only the identityId at its front.
    body: JSON.stringify({ apiKey: config.apiKey, identityId: identityId.slice(0, 32) }),
  });
  const body = await res.json();
  return res.ok && body.contact ? { id: String(body.contact.id), email: body.contact.email } : null;
}

/** The Redis store for the `redis` variants, with a lookup counter so the runner can check every hit went to Redis. */
export async function redisStoreFor() {
  const { Redis } = await import('ioredis');
  const { redisStore } = await import('@idgate/redis');
  const client = new Redis(config.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 1 });
  await new Promise((resolve, reject) => {
    client.once('ready', resolve);
    client.once('error', reject);
  });
  const store = redisStore({ client, keyPrefix: config.redisPrefix ?? 'bench:' });
  const counted = { lookups: 0 };
  return {
    counted,
    store: {
      ...store,
      lookup(key) {
        counted.lookups++;
        return store.lookup(key);
      },
      // The verifier's miss path asks with `claim` (lookup + cross-instance lease) when the store has it.
      claim(...args) {
        counted.lookups++;
        return store.claim(...args);
      },
    },
  };
}

/** Tell the runner the port, on one stdout line. */
export function ready(port) {
  process.stdout.write(`${JSON.stringify({ ready: true, port, pid: process.pid })}\n`);
}

process.on('SIGTERM', () => process.exit(0));
