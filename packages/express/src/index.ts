import type { NextFunction, Request, RequestHandler, Response } from 'express';
import {
  applyHeaders,
  createIdgate,
  exposeOnPrototype,
  requestTags,
  requiredRule,
  type AuthState,
  type Decision,
  type EndpointSource,
  type Idgate,
  type IdgateOptions,
  type IdentityEndpoint,
  type IdentityRequest,
  type RequireOptions,
} from '@idgate/core/adapter';
import { IncomingMessage } from 'node:http';
import { serveNodeEndpoint } from '@idgate/core/node';
import './types.js';

export type { Identity, IdentityStatus, IdgateOptions, RequireOptions, Idgate, EndpointSource, IdentityEndpoint } from '@idgate/core';
export { createIdgate } from '@idgate/core';

/**
 * A request's tag lives in `res.locals`, the per-request object Express makes
 * for exactly this (under a symbol: templates and JSON never see it), not in
 * a property on `req`: under Express 5 every request's `req` has a hidden
 * class of its own, so each property added to it builds a new one, while
 * `res.locals` is a dictionary, where adding a key is a hash insert
 * (bench/PROFILE.md). A spread or `Object.assign` copy of `res.locals` keeps
 * the tag; replacing it with a new object drops it, and `requireIdentity()`
 * then fails loudly (500) rather than letting the request through. A request
 * without `res.locals` (not from an Express app) holds its tag itself.
 */
const kit = requestTags<object, Tag>('idgate.express.tag', 'app.use(identityMiddleware()) mounted (with res.locals added to, not replaced, in between)');
function holderOf(req: Request, res: Response | undefined = req.res): object {
  const locals = res?.locals as unknown;
  return typeof locals === 'object' && locals !== null ? locals : req;
}
const tags = {
  set: (req: Request, res: Response, tag: Tag): void => kit.set(holderOf(req, res), tag),
  find: (req: Request): Tag | undefined => kit.find(holderOf(req)),
  get: (req: Request, name: string): Tag => kit.get(holderOf(req), name),
};

/**
 * `req.identity` and `req.identityStatus` are accessors on Express's request
 * prototype reading the request's tag, not properties added to each `req`
 * (see `tags`). Installed once, on the prototype every app's `request`
 * inherits from; an own property set by the app takes precedence.
 */
let accessorsOn: object | null = null;

function rootRequestPrototype(req: Request): object | undefined {
  for (let proto = Object.getPrototypeOf(req) as object | null; proto !== null; proto = Object.getPrototypeOf(proto) as object | null) {
    if (Object.getPrototypeOf(proto) === IncomingMessage.prototype) return proto;
  }
  return undefined;
}

function exposeOn(req: Request, tag: Tag): void {
  const root = rootRequestPrototype(req);
  if (root === undefined) {
    // Not an Express request (a bare IncomingMessage, a test double): plain properties.
    req.identity = tag.state!.identity;
    req.identityStatus = tag.state!.status;
    return;
  }
  exposeOnPrototype<Request>(root, {
    identity: (r) => tags.find(r)?.state?.identity,
    identityStatus: (r) => tags.find(r)?.state?.status,
  });
  // Requests of one app share their immediate prototype: the next ones skip the walk.
  accessorsOn = Object.getPrototypeOf(req) as object;
}

/**
 * Express's request seen as core's neutral `IdentityRequest`, and what the
 * middleware leaves for requireIdentity and the handlers (the gate, the
 * resolved state): one object per request. Getters, so `req.ip` is only
 * computed when a decision needs it.
 */
class Tag implements IdentityRequest {
  state: AuthState | undefined = undefined;
  constructor(private readonly req: Request, readonly gate: Idgate) {}
  get method() { return this.req.method; }
  get url() { return this.req.originalUrl; }
  get headers() { return this.req.headers; }
  get ip() { return this.req.ip; }
  get protocol() { return this.req.protocol as 'http' | 'https'; }
  get cookies() { return this.req.cookies as Record<string, string | undefined> | undefined; }
}

function apply(res: Response, decision: Decision, next: NextFunction): void {
  applyHeaders(res, decision);
  if (decision.kind === 'next') return next();
  if (decision.kind === 'redirect') return res.redirect(decision.statusCode, decision.location);
  res.status(decision.statusCode).json(decision.body);
}

function settle(tag: Tag, req: Request, res: Response, next: NextFunction, state: AuthState): void {
  tag.state = state;
  if (Object.getPrototypeOf(req) !== accessorsOn) exposeOn(req, tag);
  apply(res, tag.gate.decide(state, tag), next);
}

/**
 * Resolve the `identityId` cookie on every request: sets `req.identity` and
 * `req.identityStatus`, clears an expired cookie, and enforces the `protect`
 * option. Works with or without cookie-parser.
 * @param options idgate options, or a gate from `createIdgate()`; omitted, everything comes from `IDGATE_*` variables.
 * @example
 * app.use(identityMiddleware());
 * @example
 * app.use(identityMiddleware({ protect: ['/account/*'], loginUrl: '/signin' }));
 */
export function identityMiddleware(options?: IdgateOptions | Idgate): RequestHandler {
  const gate = createIdgate(options);
  return function idgate(req, res, next) {
    const tag = new Tag(req, gate);
    tags.set(req, res, tag);
    const state = gate.authenticate(req);
    // .catch: a throw in settle (a user's `protect` function) must reach next(err), not become an unhandled rejection.
    if (state instanceof Promise) state.then((s) => settle(tag, req, res, next, s)).catch(next);
    else settle(tag, req, res, next, state);
  };
}

/**
 * Require a signed-in identity on a route: browser navigations are redirected
 * (303) to the login URL with `returnTo`, API calls get 401 JSON
 * (`UNAUTHENTICATED`, `SESSION_EXPIRED`, `INVALID_IDENTITY`), an unreachable
 * upstream 503 with Retry-After.
 * @param options.where extra condition on the identity; false answers 403 `FORBIDDEN`.
 * @example
 * app.get('/account', requireIdentity(), (req, res) => res.json(req.identity));
 * @example
 * app.get('/admin', requireIdentity({ where: (id) => id.attributes.role === 'admin' }), handler);
 */
export function requireIdentity(options: RequireOptions = {}): RequestHandler {
  const rule = requiredRule(options);
  return function requireIdentity(req, res, next) {
    const tag = tags.get(req, 'requireIdentity()');
    apply(res, tag.gate.decide(tag.state!, tag, rule), next);
  };
}

/**
 * POST handler that signs a customer in against the upstream: JSON or
 * urlencoded body `{ email, password, returnTo? }` (no body parser needed).
 * A form post is redirected to the safe `returnTo`; JSON gets `{ authenticated, identity }`.
 * @example
 * app.post('/login', loginHandler());
 */
export function loginHandler(): RequestHandler {
  return async function loginHandler(req, res, next) {
    try {
      const tag = tags.get(req, 'loginHandler()');
      apply(res, await tag.gate.login(tag, req.body, req), next);
    } catch (err) {
      next(err);
    }
  };
}

/**
 * POST handler that signs out: upstream logout, cache invalidation, cookie
 * cleared; a form post is redirected to `afterLogoutUrl`, JSON gets `{ loggedOut: true }`.
 * @example
 * app.post('/logout', logoutHandler());
 */
export function logoutHandler(): RequestHandler {
  return async function logoutHandler(req, res, next) {
    try {
      const tag = tags.get(req, 'logoutHandler()');
      apply(res, await tag.gate.logout(tag, req), next);
    } catch (err) {
      next(err);
    }
  };
}

function endpointHandler(name: string, endpoint: IdentityEndpoint): RequestHandler {
  return async function identityEndpoint(req, res, next) {
    try {
      const tag = tags.get(req, name);
      const { gate } = tag;
      const input = { identity: req.identity, request: tag, body: req.body, stream: req };
      await serveNodeEndpoint(gate, endpoint, input, res, { decision: (decision) => apply(res, decision, next) });
    } catch (err) {
      next(err);
    }
  };
}

/**
 * Forward the request to the chat API as the verified identity (never the
 * body's `userId`); `stream: true` passes server-sent events through as they
 * arrive and a client disconnect aborts the upstream call.
 * @param forwarder from `createChatForwarder()` in `@idgate/chat`.
 * @example
 * app.post('/chat', requireIdentity(), chatProxy(createChatForwarder({ baseUrl, apiKey, agentId })));
 */
export function chatProxy(forwarder: EndpointSource): RequestHandler {
  return endpointHandler('chatProxy()', forwarder.endpoint());
}

/**
 * Answer `{ sessionId, expiryDate }` for a KYC session of the verified
 * customer; the e-mail comes from the identity, never the body.
 * @param client from `createKycClient()` in `@idgate/kyc`.
 * @param options passed to the client's endpoint, e.g. `{ customer: (identity) => ({ ... }) }`.
 * @example
 * app.post('/kyc/session', requireIdentity(), kycSessionHandler(kyc, { customer: (id) => ({ customerType: 'Individual', ... }) }));
 */
export function kycSessionHandler<O>(client: EndpointSource<O>, options?: O): RequestHandler {
  return endpointHandler('kycSessionHandler()', client.endpoint(options));
}
