// One Fastify 5 server per process: `node bench/servers/fastify.mjs <variant>`.
// Variants: bare | lru | lru-nostore (and -seeded, bench/servers/shared.mjs) | idgate | session | redis (idgate with a Redis store).
import Fastify from 'fastify';
import { config, cookieValue, fetchProfile, floor, idgateOptions, LOGIN, ready, redisStoreFor, ROUTE, STATS, UNAUTHENTICATED, USER } from './shared.mjs';

const variant = process.argv[2];
const app = Fastify({ logger: false });
const answer = (reply, user) => reply.send({ id: user.id, email: user.email });
let stats = () => ({});

if (variant === 'bare') {
  app.get(ROUTE, (request, reply) => answer(reply, USER));
} else if (variant.startsWith('lru')) {
  const { cache, lookup } = floor(variant);
  const nostore = variant.startsWith('lru-nostore');
  app.decorateRequest('user', null);
  app.addHook('onRequest', function floor(request, reply, done) {
    const user = lookup(cookieValue(request.headers.cookie, 'identityId='));
    if (user instanceof Promise) return void user.then((found) => ((request.user = found), done()), done);
    request.user = user;
    done();
  });
  const guard = (request, reply, done) => {
    if (!request.user) return reply.code(401).send(UNAUTHENTICATED);
    // lru-nostore: the floor plus the two headers idgate puts on every authenticated response.
    if (nostore) reply.header('cache-control', 'private, no-store').header('vary', 'Cookie');
    done();
  };
  app.get(ROUTE, { onRequest: guard }, (request, reply) => answer(reply, request.user));
  stats = () => ({ identities: cache.size });
} else if (variant === 'idgate' || variant === 'redis') {
  const { createIdgate, idgate } = await import('@idgate/fastify');
  const redis = variant === 'redis' ? await redisStoreFor() : undefined;
  const gate = createIdgate(idgateOptions(redis ? { store: redis.store } : {}));
  await app.register(idgate, gate);
  app.get(ROUTE, { config: { identity: 'required' } }, (request, reply) => answer(reply, request.identity));
  // refreshAtMs: after this long a cached identity is re-verified in the background (refresh-ahead).
  const { ttl, upstreamIdle, refreshAhead } = gate.config.cache;
  stats = () => ({ identities: gate.verifier.size().positive, inflight: gate.verifier.size().inflight, storeLookups: redis?.counted.lookups, refreshAtMs: Math.min(ttl, upstreamIdle) * refreshAhead });
} else if (variant === 'session' || variant === 'session-lean') {
  const { default: cookie } = await import('@fastify/cookie');
  const { default: session } = await import('@fastify/session');
  const sessions = new Map();
  await app.register(cookie);
  // session: @fastify/session's defaults (rolling: true: the session is saved and its
  // cookie set again on every response), but saveUninitialized: false so a request
  // without a cookie creates no session, and no Secure cookie over plain http.
  // session-lean: rolling: false as well, like-for-like with the other frameworks'
  // session variants (no write per request unless the session changes).
  const lean = variant === 'session-lean' ? { rolling: false } : {};
  await app.register(session, { secret: config.secret, store: new session.MemoryStore(sessions), saveUninitialized: false, ...lean, cookie: { secure: false, httpOnly: true } });
  app.post(LOGIN, (request, reply) => {
    request.session.user = USER;
    reply.send({ ok: true });
  });
  const guard = (request, reply, done) => (request.session.user ? done() : reply.code(401).send(UNAUTHENTICATED));
  app.get(ROUTE, { onRequest: guard }, (request, reply) => answer(reply, request.session.user));
  stats = () => ({ sessions: sessions.size });
} else if (variant === 'fetch') {
  app.get(ROUTE, async (request, reply) => {
    const user = await fetchProfile(cookieValue(request.headers.cookie, 'identityId='));
    if (!user) return reply.code(401).send(UNAUTHENTICATED);
    return answer(reply, user);
  });
} else {
  throw new Error(`fastify: unknown variant ${variant}`);
}

app.get(STATS, (request, reply) => reply.send(stats()));
await app.listen({ port: 0, host: '127.0.0.1' });
ready(app.server.address().port);
