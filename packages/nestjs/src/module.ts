import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { Global, Inject, Module, type DynamicModule, type FactoryProvider, type MiddlewareConsumer, type ModuleMetadata, type NestModule } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { createIdgate, pathOf, payloadTooLarge, requiredRule, type AuthState, type Idgate, type IdgateOptions } from '@idgate/core/adapter';
import { IdgateService } from './service.js';
import { ENDPOINT_ROUTE, IDGATE, IDGATE_ROUTES, IDGATE_SETTINGS } from './tokens.js';
import { ExpressRequest, renderExpress, renderFastify, tags, type ExpressLikeRequest, type ExpressLikeResponse, type FastifyLikeReply } from './platform.js';

/** Where the module itself answers sign-in and sign-out (POST only); omitted, it answers neither. */
export interface IdgateRoutes {
  /** e.g. `'/login'`: `POST` signs in (JSON or form `{ email, password, returnTo? }`). */
  loginPath?: string;
  /** e.g. `'/logout'`: `POST` signs out. */
  logoutPath?: string;
}

/** `IdgateModule.forRoot()` options: idgate's own options (or a gate from `createIdgate()`) and the module's routes. */
export type IdgateModuleOptions = (IdgateOptions & IdgateRoutes) | { gate: Idgate; loginPath?: string; logoutPath?: string };

/** `IdgateModule.forRootAsync()` options: a factory of the module options, with its injections. */
export interface IdgateModuleAsyncOptions {
  imports?: ModuleMetadata['imports'];
  inject?: FactoryProvider['inject'];
  useFactory: (...args: any[]) => IdgateModuleOptions | Promise<IdgateModuleOptions>;
}

function split(options: IdgateModuleOptions | undefined): { gate: Idgate; routes: IdgateRoutes } {
  const { loginPath, logoutPath, ...rest } = (options ?? {}) as IdgateOptions & IdgateRoutes & { gate?: Idgate };
  const gate = 'gate' in rest && rest.gate ? rest.gate : createIdgate(rest);
  return { gate, routes: { loginPath, logoutPath } };
}

type Next = (err?: unknown) => void;
const REQUIRED = requiredRule();
type FastifyLikeRequest = { raw: IncomingMessage; url: string; method: string; body?: unknown; identity: unknown; identityStatus: unknown } & Parameters<Idgate['decide']>[1];
interface FastifyLike {
  hasRequestDecorator(name: string): boolean;
  decorateRequest(name: string, value: unknown): void;
  addHook(name: string, hook: (...args: any[]) => unknown): void;
}
interface HookRoute { url: string; onRequest?: unknown; config?: Record<PropertyKey, unknown>; bodyLimit?: number; errorHandler?: (this: unknown, error: { code?: string; statusCode?: number; message: string }, request: unknown, reply: FastifyLikeReply) => unknown }

/** Which of the module's own routes a request is for, if any. */
function routeOf(routes: IdgateRoutes, method: string, url: string): 'login' | 'logout' | undefined {
  if (method !== 'POST') return undefined;
  const path = pathOf(url);
  return path === routes.loginPath ? 'login' : path === routes.logoutPath ? 'logout' : undefined;
}

/** Nest's Express platform: a middleware on every route. */
function expressMiddleware(gate: Idgate, routes: IdgateRoutes) {
  return function idgate(req: ExpressLikeRequest & { identity?: unknown; identityStatus?: unknown }, res: ExpressLikeResponse, next: Next): void {
    const request = new ExpressRequest(req);
    const render = (decision: Parameters<typeof renderExpress>[1]) => renderExpress(res, decision);
    const settle = (state: AuthState) => {
      tags.set(req, { gate, state, request, render });
      req.identity = state.identity;
      req.identityStatus = state.status;
      if (!render(gate.decide(state, request))) return;
      const route = routeOf(routes, req.method, req.originalUrl);
      if (route === undefined) return next();
      const done = route === 'login' ? gate.login(request, req.body, req) : gate.logout(request, req);
      return void done.then((decision) => { if (render(decision)) next(); }).catch(next);
    };
    try {
      const state = gate.authenticate(req);
      if (state instanceof Promise) state.then(settle).catch(next);
      else settle(state);
    } catch (err) {
      next(err);
    }
  };
}

/** Nest's Fastify platform: Fastify hooks on its instance (Nest's middleware there sees only the raw request and response, whose headers Fastify overwrites). */
function installFastify(app: FastifyLike, gate: Idgate, routes: IdgateRoutes): void {
  if (!app.hasRequestDecorator('identity')) app.decorateRequest('identity', null);
  if (!app.hasRequestDecorator('identityStatus')) app.decorateRequest('identityStatus', 'anonymous');
  app.addHook('onRequest', function authenticate(request: FastifyLikeRequest, reply: FastifyLikeReply, next: Next) {
    const render = (decision: Parameters<typeof renderFastify>[1]) => renderFastify(reply, decision);
    const settle = (state: AuthState) => {
      tags.set(request.raw, { gate, state, request, render });
      request.identity = state.identity;
      request.identityStatus = state.status;
      if (!render(gate.decide(state, request))) return;
      const route = routeOf(routes, request.method, request.url);
      if (route === undefined) return next();
      // onRequest runs before Fastify parses a body: core reads the raw stream, with its own limits and form parsing.
      const done = route === 'login' ? gate.login(request, undefined, request.raw) : gate.logout(request, request.raw);
      return void done.then((decision) => { if (render(decision)) next(); }).catch(next);
    };
    const state = gate.authenticate(request);
    if (state instanceof Promise) state.then(settle).catch(next);
    else settle(state);
  });
  // Fastify parses a body before the handler (default cap 1 MiB): routes marked @IdgateEndpoint() get core's endpoint cap and 413 answer.
  // Fastify routes before onRequest: a route that `protect` covers is guarded itself, whatever target the
  // router decoded into it (as @idgate/fastify does; the boundary suite finds no bypass without it today).
  const guardRoute = function protectedRoute(request: FastifyLikeRequest, _reply: FastifyLikeReply, next: Next) {
    const tag = tags.get(request.raw, 'a protected route');
    if (tag.render(gate.decide(tag.state, request, REQUIRED))) next();
  };
  app.addHook('onRoute', (route: HookRoute) => {
    if (gate.protectsRoute(route.url)) route.onRequest = [guardRoute, ...[route.onRequest ?? []].flat()];
    if (route.config?.[ENDPOINT_ROUTE] !== true) return;
    const limit = (route.bodyLimit ??= gate.config.bodyLimit.endpoint);
    const own = route.errorHandler;
    route.errorHandler = function idgateBodyLimit(error, request, reply) {
      if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return renderFastify(reply, payloadTooLarge(limit)), reply;
      // Any other body the parser refused (malformed JSON): Fastify's own answer, as @idgate/fastify gives, not Nest's reshaped one.
      if (error.code?.startsWith('FST_ERR_CTP_') && error.statusCode !== undefined && error.statusCode < 500) {
        return reply.code(error.statusCode).send({ statusCode: error.statusCode, code: error.code, error: STATUS_CODES[error.statusCode], message: error.message }), reply;
      }
      if (own) return own.call(this, error, request, reply);
      throw error;
    };
  });
}

/**
 * idgate for a Nest application: one gate (`createIdgate`) as a provider (`IDGATE`, and
 * `IdgateService`), the identity resolved on every request (`request.identity`,
 * `request.identityStatus`, `@Identity()`), the `protect` option enforced, and
 * `loginPath` / `logoutPath` answered. Works on `@nestjs/platform-express` and
 * `@nestjs/platform-fastify`. Global: import it once, in the root module.
 * @example
 * @Module({ imports: [IdgateModule.forRoot({ loginPath: '/login', logoutPath: '/logout' })] })
 * export class AppModule {}
 */
@Global()
@Module({})
export class IdgateModule implements NestModule {
  constructor(
    @Inject(IDGATE) private readonly gate: Idgate,
    @Inject(IDGATE_ROUTES) private readonly routes: IdgateRoutes,
    @Inject(HttpAdapterHost) private readonly host: HttpAdapterHost,
  ) {}

  /**
   * The module with options known up front.
   * @param options idgate's options (or `{ gate }`), plus `loginPath` / `logoutPath`; omitted, everything comes from `IDGATE_*` variables.
   * @example IdgateModule.forRoot({ protect: ['/account/*'], loginPath: '/login', logoutPath: '/logout' })
   */
  static forRoot(options?: IdgateModuleOptions): DynamicModule {
    return IdgateModule.build([], { provide: IDGATE_SETTINGS, useValue: split(options) });
  }

  /**
   * The module with options from a factory (configuration service, secrets store).
   * @example IdgateModule.forRootAsync({ inject: [ConfigService], useFactory: (config: ConfigService) => ({ secret: config.get('IDGATE_SECRET') }) })
   */
  static forRootAsync(options: IdgateModuleAsyncOptions): DynamicModule {
    return IdgateModule.build(options.imports ?? [], {
      provide: IDGATE_SETTINGS,
      inject: options.inject ?? [],
      useFactory: async (...args: unknown[]) => split(await options.useFactory(...args)),
    });
  }

  private static build(imports: NonNullable<ModuleMetadata['imports']>, settings: DynamicModule['providers'] extends (infer P)[] | undefined ? P : never): DynamicModule {
    return {
      module: IdgateModule,
      global: true,
      imports,
      providers: [
        settings,
        { provide: IDGATE, inject: [IDGATE_SETTINGS], useFactory: (s: ReturnType<typeof split>) => s.gate },
        { provide: IDGATE_ROUTES, inject: [IDGATE_SETTINGS], useFactory: (s: ReturnType<typeof split>) => s.routes },
        IdgateService,
      ],
      exports: [IDGATE, IdgateService],
    };
  }

  /** Installs the identity resolution: a middleware on Express, an `onRequest` hook on Fastify. */
  configure(consumer: MiddlewareConsumer): void {
    const adapter = this.host.httpAdapter;
    if (adapter.getType() === 'fastify') installFastify(adapter.getInstance<FastifyLike>(), this.gate, this.routes);
    else consumer.apply(expressMiddleware(this.gate, this.routes) as (req: IncomingMessage, res: ServerResponse, next: Next) => void).forRoutes('*');
  }
}
