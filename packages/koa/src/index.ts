import type { Context, Middleware, Next } from 'koa';
import { applyHeaders, createIdgate, exposeOnPrototype, mountedFirst, requiredRule } from '@idgate/core/adapter';
import type { AuthState, Decision, EndpointSource, Idgate, IdgateOptions, IdentityEndpoint, IdentityRequest, RequireOptions } from '@idgate/core/adapter';
import { serveNodeEndpoint } from '@idgate/core/node';
import './types.js';

export type { Identity, IdentityStatus, IdgateOptions, RequireOptions, Idgate, EndpointSource, IdentityEndpoint } from '@idgate/core';
export { createIdgate } from '@idgate/core';

const TAG = Symbol.for('idgate.koa.tag');
type Tagged = Context & { [TAG]?: KoaRequest };

/**
 * Koa's context seen as core's neutral `IdentityRequest`, and what the
 * middleware leaves for later handlers (the gate, the resolved state): one
 * object, one property on `ctx`. Getters, so `ctx.ip` (which honours
 * `app.proxy`) is only computed when a decision needs it.
 */
class KoaRequest implements IdentityRequest {
  state: AuthState | undefined = undefined;
  constructor(private readonly ctx: Context, readonly gate: Idgate) {}
  get method() { return this.ctx.method; }
  get url() { return this.ctx.originalUrl; }
  get headers() { return this.ctx.req.headers; }
  get ip() { return this.ctx.ip; }
  get protocol() { return this.ctx.protocol as 'http' | 'https'; }
}

/**
 * `ctx.identity` and `ctx.identityStatus` are accessors on the app's context
 * prototype reading `ctx.state`, installed once per app: two fewer
 * properties added to every request's context. An own property an app sets
 * takes precedence.
 */
let accessorsOn: object | null = null;

function exposeOn(ctx: Context): void {
  accessorsOn = Object.getPrototypeOf(ctx) as object;
  exposeOnPrototype<Context>(accessorsOn, {
    identity: (c) => (c.state as Record<string, unknown> | undefined)?.identity,
    identityStatus: (c) => (c.state as Record<string, unknown> | undefined)?.identityStatus,
  });
}

function apply(ctx: Context, decision: Decision, next: Next): Promise<unknown> | undefined {
  applyHeaders(ctx.res, decision);
  if (decision.kind === 'next') return next();
  ctx.status = decision.statusCode;
  if (decision.kind === 'redirect') ctx.redirect(decision.location);
  else ctx.body = decision.body;
  return undefined;
}

function tagOf(ctx: Tagged, name: string): KoaRequest {
  const tag = ctx[TAG];
  if (!tag) throw mountedFirst(name, 'app.use(identityMiddleware()) mounted');
  return tag;
}

/** A body a Koa body parser already read, if one is mounted. */
const parsedBody = (ctx: Context): unknown => (ctx.request as { body?: unknown }).body;

function settle(tag: KoaRequest, ctx: Tagged, next: Next, state: AuthState): Promise<unknown> | undefined {
  tag.state = state;
  ctx.state.identity = state.identity;
  ctx.state.identityStatus = state.status;
  if (Object.getPrototypeOf(ctx) !== accessorsOn) exposeOn(ctx);
  return apply(ctx, tag.gate.decide(state, tag), next);
}

/**
 * Resolve the `identityId` cookie on every request: sets `ctx.state.identity`
 * and `ctx.state.identityStatus` (also `ctx.identity`, `ctx.identityStatus`),
 * clears an expired cookie, and enforces the `protect` option.
 * @param options idgate options, or a gate from `createIdgate()`; omitted, everything comes from `IDGATE_*` variables.
 * @example
 * app.use(identityMiddleware());
 * @example
 * app.use(identityMiddleware({ protect: ['/account/*'], loginUrl: '/signin' }));
 */
export function identityMiddleware(options?: IdgateOptions | Idgate): Middleware {
  const gate = createIdgate(options);
  return function idgate(ctx: Tagged, next) {
    const tag = new KoaRequest(ctx, gate);
    ctx[TAG] = tag;
    const state = gate.authenticate(ctx.req);
    // A cache hit settles synchronously: no await, no extra promise.
    if (state instanceof Promise) return state.then((s) => settle(tag, ctx, next, s));
    return settle(tag, ctx, next, state);
  };
}

/**
 * Require a signed-in identity on a route: browser navigations are redirected
 * (303) to the login URL with `returnTo`, API calls get 401 JSON
 * (`UNAUTHENTICATED`, `SESSION_EXPIRED`, `INVALID_IDENTITY`), an unreachable
 * upstream 503 with Retry-After.
 * @param options.where extra condition on the identity; false answers 403 `FORBIDDEN`.
 * @example
 * router.get('/account', requireIdentity(), (ctx) => { ctx.body = ctx.state.identity; });
 * @example
 * router.get('/admin', requireIdentity({ where: (id) => id.attributes.role === 'admin' }), handler);
 */
export function requireIdentity(options: RequireOptions = {}): Middleware {
  const rule = requiredRule(options);
  return function requireIdentity(ctx: Tagged, next) {
    const tag = tagOf(ctx, 'requireIdentity()');
    return apply(ctx, tag.gate.decide(tag.state!, tag, rule), next);
  };
}

/**
 * POST handler that signs a customer in against the upstream: JSON or
 * urlencoded body `{ email, password, returnTo? }` (no body parser needed).
 * A form post is redirected to the safe `returnTo`; JSON gets `{ authenticated, identity }`.
 * @example
 * router.post('/login', loginHandler());
 */
export function loginHandler(): Middleware {
  return async function loginHandler(ctx: Tagged, next) {
    const tag = tagOf(ctx, 'loginHandler()');
    await apply(ctx, await tag.gate.login(tag, parsedBody(ctx), ctx.req), next);
  };
}

/**
 * POST handler that signs out: upstream logout, cache invalidation, cookie
 * cleared; a form post is redirected to `afterLogoutUrl`, JSON gets `{ loggedOut: true }`.
 * @example
 * router.post('/logout', logoutHandler());
 */
export function logoutHandler(): Middleware {
  return async function logoutHandler(ctx: Tagged, next) {
    const tag = tagOf(ctx, 'logoutHandler()');
    await apply(ctx, await tag.gate.logout(tag, ctx.req), next);
  };
}

function endpointHandler(name: string, endpoint: IdentityEndpoint): Middleware {
  return async function identityEndpoint(ctx: Tagged, next) {
    const tag = tagOf(ctx, name);
    const input = { identity: ctx.state.identity, request: tag, body: parsedBody(ctx), stream: ctx.req };
    await serveNodeEndpoint(tag.gate, endpoint, input, ctx.res, {
      decision: (decision) => apply(ctx, decision, next),
      takeOver: () => { ctx.respond = false; }, // Koa steps aside; the raw response is written as chunks arrive
    });
  };
}

/**
 * Forward the request to the chat API as the verified identity (never the
 * body's `userId`); `stream: true` passes server-sent events through as they
 * arrive and a client disconnect aborts the upstream call.
 * @param forwarder from `createChatForwarder()` in `@idgate/chat`.
 * @example
 * router.post('/chat', requireIdentity(), chatProxy(createChatForwarder({ baseUrl, apiKey, agentId })));
 */
export function chatProxy(forwarder: EndpointSource): Middleware {
  return endpointHandler('chatProxy()', forwarder.endpoint());
}

/**
 * Answer `{ sessionId, expiryDate }` for a KYC session of the verified
 * customer; the e-mail comes from the identity, never the body.
 * @param client from `createKycClient()` in `@idgate/kyc`.
 * @param options passed to the client's endpoint, e.g. `{ customer: (identity) => ({ ... }) }`.
 * @example
 * router.post('/kyc/session', requireIdentity(), kycSessionHandler(kyc, { customer: (id) => ({ customerType: 'Individual', ... }) }));
 */
export function kycSessionHandler<O>(client: EndpointSource<O>, options?: O): Middleware {
  return endpointHandler('kycSessionHandler()', client.endpoint(options));
}
