// One Express 5 server per process: `node bench/servers/express.mjs <variant>`.
// Variants: bare | lru | lru-nostore (and -seeded, bench/servers/shared.mjs) | idgate | session | redis (idgate with a Redis store).
import express from 'express';
import { config, cookieValue, fetchProfile, floor, idgateOptions, LOGIN, ready, redisStoreFor, ROUTE, STATS, UNAUTHENTICATED, USER } from './shared.mjs';

const variant = process.argv[2];
const app = express();
const answer = (res, user) => res.json({ id: user.id, email: user.email });
let stats = () => ({});

if (variant === 'bare') {
  app.get(ROUTE, (req, res) => answer(res, USER));
} else if (variant.startsWith('lru')) {
  const { cache, lookup } = floor(variant);
  const nostore = variant.startsWith('lru-nostore');
  app.use(function floor(req, res, next) {
    const user = lookup(cookieValue(req.headers.cookie, 'identityId='));
    if (user instanceof Promise) return void user.then((found) => ((req.user = found), next()), next);
    req.user = user;
    next();
  });
  const guard = (req, res, next) => {
    if (!req.user) return res.status(401).json(UNAUTHENTICATED);
    // lru-nostore: the floor plus the two headers idgate puts on every authenticated response.
    if (nostore) {
      res.setHeader('Cache-Control', 'private, no-store');
      res.setHeader('Vary', 'Cookie');
    }
    next();
  };
  app.get(ROUTE, guard, (req, res) => answer(res, req.user));
  stats = () => ({ identities: cache.size });
} else if (variant === 'idgate' || variant === 'redis') {
  const { createIdgate, identityMiddleware, requireIdentity } = await import('@idgate/express');
  const redis = variant === 'redis' ? await redisStoreFor() : undefined;
  const gate = createIdgate(idgateOptions(redis ? { store: redis.store } : {}));
  app.use(identityMiddleware(gate));
  app.get(ROUTE, requireIdentity(), (req, res) => answer(res, req.identity));
  // refreshAtMs: after this long a cached identity is re-verified in the background (refresh-ahead).
  const { ttl, upstreamIdle, refreshAhead } = gate.config.cache;
  stats = () => ({ identities: gate.verifier.size().positive, inflight: gate.verifier.size().inflight, storeLookups: redis?.counted.lookups, refreshAtMs: Math.min(ttl, upstreamIdle) * refreshAhead });
} else if (variant === 'session') {
  const { default: session } = await import('express-session');
  const store = new session.MemoryStore();
  // The README's recommended settings; no write per request unless the session changes.
  app.use(session({ secret: config.secret, store, resave: false, saveUninitialized: false, cookie: { secure: false, httpOnly: true } }));
  app.post(LOGIN, (req, res) => {
    req.session.user = USER;
    res.json({ ok: true });
  });
  const guard = (req, res, next) => (req.session.user ? next() : res.status(401).json(UNAUTHENTICATED));
  app.get(ROUTE, guard, (req, res) => answer(res, req.session.user));
  stats = () => ({ sessions: Object.keys(store.sessions).length });
} else if (variant === 'fetch') {
  app.get(ROUTE, async (req, res, next) => {
    try {
      const user = await fetchProfile(cookieValue(req.headers.cookie, 'identityId='));
      if (!user) return res.status(401).json(UNAUTHENTICATED);
      answer(res, user);
    } catch (err) {
      next(err);
    }
  });
} else {
  throw new Error(`express: unknown variant ${variant}`);
}

app.get(STATS, (req, res) => res.json(stats()));
const server = app.listen(0, '127.0.0.1', () => ready(server.address().port));
