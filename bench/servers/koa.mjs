// One Koa 3 server per process: `node bench/servers/koa.mjs <variant>`.
// Variants: bare | lru | lru-nostore (and -seeded, bench/servers/shared.mjs) | idgate | session | redis (idgate with a Redis store).
// No router: every variant ends in the same path check, so the comparison is
// the middleware alone.
import Koa from 'koa';
import { config, cookieValue, fetchProfile, floor, idgateOptions, LOGIN, ready, redisStoreFor, ROUTE, STATS, UNAUTHENTICATED, USER } from './shared.mjs';

const variant = process.argv[2];
const app = new Koa();
let stats = () => ({});
let userOf = () => USER;

/** Mount a middleware on one path, as a router would. */
const only = (path, middleware) => (ctx, next) => (ctx.path === path ? middleware(ctx, next) : next());

if (variant === 'bare') {
  // nothing in front of the route
} else if (variant.startsWith('lru')) {
  const { cache, lookup } = floor(variant);
  const nostore = variant.startsWith('lru-nostore');
  app.use(function floor(ctx, next) {
    const user = lookup(cookieValue(ctx.req.headers.cookie, 'identityId='));
    if (user instanceof Promise) return user.then((found) => ((ctx.state.user = found), next()));
    ctx.state.user = user;
    return next();
  });
  app.use(only(ROUTE, (ctx, next) => {
    if (ctx.state.user) {
      // lru-nostore: the floor plus the two headers idgate puts on every authenticated response.
      if (nostore) {
        ctx.res.setHeader('Cache-Control', 'private, no-store');
        ctx.res.setHeader('Vary', 'Cookie');
      }
      return next();
    }
    ctx.status = 401;
    ctx.body = UNAUTHENTICATED;
  }));
  userOf = (ctx) => ctx.state.user;
  stats = () => ({ identities: cache.size });
} else if (variant === 'idgate' || variant === 'redis') {
  const { createIdgate, identityMiddleware, requireIdentity } = await import('@idgate/koa');
  const redis = variant === 'redis' ? await redisStoreFor() : undefined;
  const gate = createIdgate(idgateOptions(redis ? { store: redis.store } : {}));
  app.use(identityMiddleware(gate));
  app.use(only(ROUTE, requireIdentity()));
  userOf = (ctx) => ctx.state.identity;
  // refreshAtMs: after this long a cached identity is re-verified in the background (refresh-ahead).
  const { ttl, upstreamIdle, refreshAhead } = gate.config.cache;
  stats = () => ({ identities: gate.verifier.size().positive, inflight: gate.verifier.size().inflight, storeLookups: redis?.counted.lookups, refreshAtMs: Math.min(ttl, upstreamIdle) * refreshAhead });
} else if (variant === 'session') {
  const { default: session } = await import('koa-session');
  // A server-side store, serializing like express-session's MemoryStore does.
  const sessions = new Map();
  const store = {
    get: (key) => {
      const text = sessions.get(key);
      return text === undefined ? undefined : JSON.parse(text);
    },
    set: (key, value) => void sessions.set(key, JSON.stringify(value)),
    destroy: (key) => void sessions.delete(key),
  };
  app.keys = [config.secret];
  app.use(session({ store, rolling: false, renew: false, secure: false }, app));
  app.use(only(LOGIN, (ctx) => {
    ctx.session.user = USER;
    ctx.body = { ok: true };
  }));
  app.use(only(ROUTE, (ctx, next) => {
    if (ctx.session.user) return next();
    ctx.status = 401;
    ctx.body = UNAUTHENTICATED;
  }));
  userOf = (ctx) => ctx.session.user;
  stats = () => ({ sessions: sessions.size });
} else if (variant === 'fetch') {
  app.use(only(ROUTE, async (ctx, next) => {
    ctx.state.user = await fetchProfile(cookieValue(ctx.req.headers.cookie, 'identityId='));
    if (ctx.state.user) return next();
    ctx.status = 401;
    ctx.body = UNAUTHENTICATED;
  }));
  userOf = (ctx) => ctx.state.user;
} else {
  throw new Error(`koa: unknown variant ${variant}`);
}

app.use((ctx, next) => {
  if (ctx.path === ROUTE) {
    const user = userOf(ctx);
    ctx.body = { id: user.id, email: user.email };
  } else if (ctx.path === STATS) {
    ctx.body = stats();
  } else {
    return next();
  }
});

const server = app.listen(0, '127.0.0.1', () => ready(server.address().port));
