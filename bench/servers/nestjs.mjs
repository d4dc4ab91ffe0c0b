// One NestJS 11 server per process: `node bench/servers/nestjs.mjs <variant> [express|fastify]`
// (the platform; default express). Variants: bare | lru | lru-nostore (and -seeded, bench/servers/shared.mjs) | idgate | session | redis | fetch.
// Plain JavaScript, so decorators are applied by hand with Reflect.decorate, as
// TypeScript's compiled output does; the handlers and guards are what a Nest app writes.
import 'reflect-metadata';
import { Controller, Get, HttpCode, Injectable, Module, Post, Req, UnauthorizedException, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { config, cookieValue, fetchProfile, floor, idgateOptions, LOGIN, ready, redisStoreFor, ROUTE, STATS, UNAUTHENTICATED, USER } from './shared.mjs';

const variant = process.argv[2];
const platform = process.argv[3] ?? 'express';
if (platform !== 'express' && platform !== 'fastify') throw new Error(`nestjs: unknown platform ${platform}`);
const answer = (user) => ({ id: user.id, email: user.email });
let stats = () => ({});

/** `@decorators` on a method (`@Get() @UseGuards()`), and `@param` decorators by index (`@Req()`). */
function method(Class, name, decorators, params = []) {
  const proto = Class.prototype;
  const all = [...decorators, ...params.map((decorator, index) => (target, key) => decorator(target, key, index))];
  Object.defineProperty(proto, name, Reflect.decorate(all, proto, name, Object.getOwnPropertyDescriptor(proto, name)));
}
const controller = (Class) => Reflect.decorate([Controller()], Class);
const injectable = (Class) => Reflect.decorate([Injectable()], Class);
/** Set response headers on either platform's response (Express `res`, Fastify `reply`). */
const header = (res, name, value) => ('raw' in res ? res.header(name, value) : res.setHeader(name, value));

const controllers = [];
const imports = [];
/** Runs on the Nest application before it listens (platform plugins, hooks, Express middleware). */
let prepare = async () => {};
let configure = () => {};

class Stats {
  stats() {
    return stats();
  }
}
method(Stats, 'stats', [Get(STATS)]);
controllers.push(controller(Stats));

if (variant === 'bare') {
  class Me {
    me() {
      return answer(USER);
    }
  }
  method(Me, 'me', [Get(ROUTE)]);
  controllers.push(controller(Me));
} else if (variant.startsWith('lru')) {
  const { cache, lookup: lookupId } = floor(variant);
  const nostore = variant.startsWith('lru-nostore');
  const lookup = (headers) => lookupId(cookieValue(headers.cookie, 'identityId='));
  // The floor's lookup runs for every request where idgate's does: a Nest middleware on
  // Express, an onRequest hook on Fastify (Nest's middleware there sees only the raw request).
  if (platform === 'express') {
    configure = (consumer) => consumer.apply(function floor(req, res, next) {
      const user = lookup(req.headers);
      if (user instanceof Promise) return void user.then((found) => ((req.user = found), next()), next);
      req.user = user;
      next();
    }).forRoutes('*');
  } else {
    prepare = async (app) => {
      const fastify = app.getHttpAdapter().getInstance();
      fastify.decorateRequest('user', null);
      fastify.addHook('onRequest', function floor(request, reply, done) {
        const user = lookup(request.headers);
        if (user instanceof Promise) return void user.then((found) => ((request.user = found), done()), done);
        request.user = user;
        done();
      });
    };
  }
  class FloorGuard {
    canActivate(context) {
      const http = context.switchToHttp();
      if (!http.getRequest().user) throw new UnauthorizedException(UNAUTHENTICATED);
      // lru-nostore: the floor plus the two headers idgate puts on every authenticated response.
      if (nostore) {
        const res = http.getResponse();
        header(res, 'Cache-Control', 'private, no-store');
        header(res, 'Vary', 'Cookie');
      }
      return true;
    }
  }
  class Me {
    me(req) {
      return answer(req.user);
    }
  }
  method(Me, 'me', [Get(ROUTE), UseGuards(injectable(FloorGuard))], [Req()]);
  controllers.push(controller(Me));
  stats = () => ({ identities: cache.size });
} else if (variant === 'idgate' || variant === 'redis') {
  const { createIdgate, IdgateModule, RequireIdentity } = await import('@idgate/nestjs');
  const redis = variant === 'redis' ? await redisStoreFor() : undefined;
  const gate = createIdgate(idgateOptions(redis ? { store: redis.store } : {}));
  imports.push(IdgateModule.forRoot({ gate }));
  class Me {
    me(req) {
      return answer(req.identity);
    }
  }
  method(Me, 'me', [Get(ROUTE), RequireIdentity()], [Req()]);
  controllers.push(controller(Me));
  // refreshAtMs: after this long a cached identity is re-verified in the background (refresh-ahead).
  const { ttl, upstreamIdle, refreshAhead } = gate.config.cache;
  stats = () => ({ identities: gate.verifier.size().positive, inflight: gate.verifier.size().inflight, storeLookups: redis?.counted.lookups, refreshAtMs: Math.min(ttl, upstreamIdle) * refreshAhead });
} else if (variant === 'session') {
  // The session middleware Nest documents for each platform, configured as the bare frameworks' (d).
  if (platform === 'express') {
    const { default: session } = await import('express-session');
    const store = new session.MemoryStore();
    prepare = async (app) => app.use(session({ secret: config.secret, store, resave: false, saveUninitialized: false, cookie: { secure: false, httpOnly: true } }));
    stats = () => ({ sessions: Object.keys(store.sessions).length });
  } else {
    const { default: cookie } = await import('@fastify/cookie');
    const { default: session } = await import('@fastify/session');
    const sessions = new Map();
    prepare = async (app) => {
      await app.register(cookie);
      await app.register(session, { secret: config.secret, store: new session.MemoryStore(sessions), saveUninitialized: false, cookie: { secure: false, httpOnly: true } });
    };
    stats = () => ({ sessions: sessions.size });
  }
  class SessionGuard {
    canActivate(context) {
      if (!context.switchToHttp().getRequest().session.user) throw new UnauthorizedException(UNAUTHENTICATED);
      return true;
    }
  }
  class Me {
    login(req) {
      req.session.user = USER;
      return { ok: true };
    }
    me(req) {
      return answer(req.session.user);
    }
  }
  method(Me, 'login', [Post(LOGIN), HttpCode(200)], [Req()]);
  method(Me, 'me', [Get(ROUTE), UseGuards(injectable(SessionGuard))], [Req()]);
  controllers.push(controller(Me));
} else if (variant === 'fetch') {
  class Me {
    async me(req) {
      const user = await fetchProfile(cookieValue(req.headers.cookie, 'identityId='));
      if (!user) throw new UnauthorizedException(UNAUTHENTICATED);
      return answer(user);
    }
  }
  method(Me, 'me', [Get(ROUTE)], [Req()]);
  controllers.push(controller(Me));
} else {
  throw new Error(`nestjs: unknown variant ${variant}`);
}

class BenchModule {
  configure(consumer) {
    configure(consumer);
  }
}
Reflect.decorate([Module({ imports, controllers })], BenchModule);

// bodyParser: false on every variant, as @idgate/nestjs's README recommends (no variant parses bodies).
const options = { bodyParser: false, logger: false, abortOnError: false };
let app;
if (platform === 'express') {
  app = await NestFactory.create(BenchModule, options);
  app.disable('x-powered-by');
} else {
  const { FastifyAdapter } = await import('@nestjs/platform-fastify');
  app = await NestFactory.create(BenchModule, new FastifyAdapter(), options);
}
await prepare(app);
await app.listen(0, '127.0.0.1');
ready(app.getHttpServer().address().port);
