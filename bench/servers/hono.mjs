// One Hono 4 server per process, on @hono/node-server: `node bench/servers/hono.mjs <variant>`.
// Variants: bare | lru | lru-nostore (and -seeded, bench/servers/shared.mjs) | idgate | redis (idgate with a Redis store) | fetch.
// No `session` variant: Hono ships no server-side session middleware to compare with,
// so section 1 has no (d) for Hono.
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import { cookieValue, fetchProfile, floor, idgateOptions, ready, redisStoreFor, ROUTE, STATS, UNAUTHENTICATED, USER } from './shared.mjs';

const variant = process.argv[2];
const app = new Hono();
const answer = (c, user) => c.json({ id: user.id, email: user.email });
let stats = () => ({});

if (variant === 'bare') {
  app.get(ROUTE, (c) => answer(c, USER));
} else if (variant.startsWith('lru')) {
  const { cache, lookup } = floor(variant);
  const nostore = variant.startsWith('lru-nostore');
  app.use(async function floor(c, next) {
    const user = lookup(cookieValue(c.req.raw.headers.get('cookie') ?? undefined, 'identityId='));
    c.set('user', user instanceof Promise ? await user : user);
    await next();
  });
  app.get(ROUTE, async (c, next) => {
    if (!c.get('user')) return c.json(UNAUTHENTICATED, 401);
    // lru-nostore: the floor plus the two headers idgate puts on every authenticated response.
    if (nostore) {
      c.header('Cache-Control', 'private, no-store');
      c.header('Vary', 'Cookie');
    }
    await next();
  }, (c) => answer(c, c.get('user')));
  stats = () => ({ identities: cache.size });
} else if (variant === 'idgate' || variant === 'redis') {
  const { createIdgate, identityMiddleware, requireIdentity } = await import('@idgate/hono');
  const redis = variant === 'redis' ? await redisStoreFor() : undefined;
  const gate = createIdgate(idgateOptions(redis ? { store: redis.store } : {}));
  app.use(identityMiddleware(gate));
  app.get(ROUTE, requireIdentity(), (c) => answer(c, c.get('identity')));
  // refreshAtMs: after this long a cached identity is re-verified in the background (refresh-ahead).
  const { ttl, upstreamIdle, refreshAhead } = gate.config.cache;
  stats = () => ({ identities: gate.verifier.size().positive, inflight: gate.verifier.size().inflight, storeLookups: redis?.counted.lookups, refreshAtMs: Math.min(ttl, upstreamIdle) * refreshAhead });
} else if (variant === 'fetch') {
  app.get(ROUTE, async (c) => {
    const user = await fetchProfile(cookieValue(c.req.raw.headers.get('cookie') ?? undefined, 'identityId='));
    return user ? answer(c, user) : c.json(UNAUTHENTICATED, 401);
  });
} else {
  throw new Error(`hono: unknown variant ${variant}`);
}

app.get(STATS, (c) => c.json(stats()));

const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => ready(info.port));
void server;
