import { errorCodes, type FastifyPluginAsync, type FastifyReply, type FastifyRequest, type RouteHandlerMethod } from 'fastify';
import fp from 'fastify-plugin';
import { ConfigError, applyHeaders, createIdgate, mountedFirst, payloadTooLarge, requestAccessor, requiredRule } from '@idgate/core/adapter';
import type { AuthState, Decision, EndpointSource, HeaderTarget, Idgate, IdgateOptions, IdentityEndpoint, RequireOptions } from '@idgate/core/adapter';
import { serveNodeEndpoint } from '@idgate/core/node';
import type { IdgateDecorator, RequireIdentityHook } from './types.js';

export type { Identity, IdentityStatus, IdgateOptions, RequireOptions, Idgate, EndpointSource, IdentityEndpoint } from '@idgate/core';
export type { IdgateDecorator, RequireIdentityHook } from './types.js';
export { createIdgate } from '@idgate/core';

const STATE = Symbol('idgate.state');
const FORM_ROUTE = Symbol('idgate.formRoute');
const FORM = 'application/x-www-form-urlencoded';
const FORM_HANDLERS = new WeakSet<object>(); // login/logout: the only routes the plugin's form parser answers
const ENDPOINT_HANDLERS = new WeakSet<object>(); // chat/KYC: capped at bodyLimit.endpoint
type Tagged = FastifyRequest & { [STATE]: AuthState | null };

/**
 * Core's header target over `reply`, not `reply.raw`: Fastify writes its own
 * headers at send time, so raw ones set early would be overwritten. One
 * object, pointed at the reply for the length of a synchronous
 * `applyHeaders` call: no allocation per request.
 */
const replyHeaders = new (class ReplyHeaders implements HeaderTarget {
  reply: FastifyReply | undefined = undefined;
  getHeader(name: string) { return this.reply!.getHeader(name); }
  // reply.header() replaces any header but Set-Cookie, which it appends to; core passes Set-Cookie's whole
  // list, so only that one is cleared first (removeHeader deletes a key: slow for every later header, per request).
  setHeader(name: string, value: number | string | readonly string[]) { return (name === 'set-cookie' ? this.reply!.removeHeader(name) : this.reply!).header(name, value); }
})();

/** Apply a decision to the reply; true when the request may continue. */
function apply(reply: FastifyReply, decision: Decision): boolean {
  if (decision.headers.length !== 0 || decision.setCookies.length !== 0) {
    replyHeaders.reply = reply;
    try {
      applyHeaders(replyHeaders, decision);
    } finally {
      replyHeaders.reply = undefined;
    }
  }
  if (decision.kind === 'next') return true;
  if (decision.kind === 'redirect') reply.redirect(decision.location, decision.statusCode);
  else reply.code(decision.statusCode).send(decision.body);
  return false;
}

function settle(gate: Idgate, request: FastifyRequest, reply: FastifyReply, state: AuthState, next: (err?: Error) => void): void {
  (request as Tagged)[STATE] = state;
  if (apply(reply, gate.decide(state, request))) next();
}

/** Fastify's accessor decoration for a name read from the request's state; an app's own assignment (a test double) shadows it on that request. */
function stateAccessor(name: 'identity' | 'identityStatus', read: (state: AuthState | null) => unknown) {
  const { get, set } = requestAccessor<Tagged>(name, (request) => read(request[STATE]));
  return { getter: get, setter: set } as never;
}

function gateOf(request: FastifyRequest, name: string): Idgate {
  const gate = (request.server.idgate as IdgateDecorator | undefined)?.gate;
  if (!gate) throw mountedFirst(name, 'the plugin registered (await app.register(idgate))');
  return gate;
}

/**
 * A hook requiring a signed-in identity (navigations: 303 to login; API calls:
 * 401 JSON; upstream down: 503). Also `app.requireIdentity`, and what route
 * config `{ identity: 'required' | { where } }` installs.
 * @param options.where extra condition on the identity; false answers 403 `FORBIDDEN`.
 * @example
 * app.get('/api/me', { preHandler: app.requireIdentity() }, async (request) => request.identity);
 */
export function requireIdentity(options: RequireOptions = {}): RequireIdentityHook {
  return requireWith(undefined, requiredRule(options));
}

/** The hook; `gate` is known when the plugin installs it for a route, else read from the instance per request. */
function requireWith(gate: Idgate | undefined, rule: ReturnType<typeof requiredRule>): RequireIdentityHook {
  return function requireIdentity(request, reply, done) {
    const decision = (gate ?? gateOf(request, 'requireIdentity()')).decide((request as Tagged)[STATE]!, request, rule);
    if (apply(reply, decision)) done();
  };
}

function formHandler(name: string, run: (gate: Idgate, request: FastifyRequest) => Promise<Decision>): RouteHandlerMethod {
  const handler: RouteHandlerMethod = async function formHandler(request, reply) {
    apply(reply, await run(gateOf(request, name), request));
    return reply;
  };
  FORM_HANDLERS.add(handler);
  return handler;
}

/**
 * POST handler that signs in: JSON or urlencoded `{ email, password, returnTo? }`
 * (no @fastify/formbody needed); a form is redirected to `returnTo`, JSON gets the identity.
 * @example
 * app.post('/login', loginHandler());   // or app.idgate.loginHandler()
 */
export function loginHandler(): RouteHandlerMethod {
  return formHandler('loginHandler()', (gate, request) => gate.login(request, request.body));
}

/**
 * POST handler that signs out: upstream logout, cache invalidated, cookie cleared.
 * @example
 * app.post('/logout', logoutHandler());   // or app.idgate.logoutHandler()
 */
export function logoutHandler(): RouteHandlerMethod {
  return formHandler('logoutHandler()', (gate, request) => gate.logout(request));
}

function endpointHandler(name: string, endpoint: IdentityEndpoint): RouteHandlerMethod {
  const handler: RouteHandlerMethod = async function identityEndpoint(request, reply) {
    const input = { identity: request.identity, request, body: request.body };
    await serveNodeEndpoint(gateOf(request, name), endpoint, input, reply.raw, {
      decision: (decision) => apply(reply, decision),
      // Streaming bypasses Fastify's reply: carry the headers set so far (Cache-Control, Vary) onto the raw response.
      takeOver() {
        reply.hijack();
        for (const [header, value] of Object.entries(reply.getHeaders())) if (value !== undefined) reply.raw.setHeader(header, value);
      },
    });
    return reply;
  };
  ENDPOINT_HANDLERS.add(handler);
  return handler;
}

/**
 * Forward to the chat API as the verified identity; `stream: true` passes SSE through.
 * @param forwarder from `createChatForwarder()` in `@idgate/chat`.
 * @example
 * app.post('/chat', { config: { identity: 'required' } }, chatProxy(createChatForwarder({ baseUrl, apiKey, agentId })));
 */
export function chatProxy(forwarder: EndpointSource): RouteHandlerMethod {
  return endpointHandler('chatProxy()', forwarder.endpoint());
}

/**
 * Answer a KYC session `{ sessionId, expiryDate }` for the verified identity.
 * @param client from `createKycClient()` in `@idgate/kyc`; `options` go to its endpoint.
 * @example
 * app.post('/kyc/session', { config: { identity: 'required' } }, kycSessionHandler(kyc, { customer: (id) => ({ ... }) }));
 */
export function kycSessionHandler<O>(client: EndpointSource<O>, options?: O): RouteHandlerMethod {
  return endpointHandler('kycSessionHandler()', client.endpoint(options));
}

// Async, so a bad option rejects `app.register()` (a callback plugin that throws would hang avvio).
const plugin: FastifyPluginAsync<IdgateOptions | Idgate> = async (app, options) => {
  const gate = createIdgate(options);
  // One field per request: Fastify's request constructor stores each value decoration with a
  // keyed store in a loop, which goes megamorphic from the second name on (about 300 instructions
  // each, bench/PROFILE.md). `identity` and `identityStatus` read the state through the prototype.
  app.decorateRequest(STATE, null);
  app.decorateRequest('identity', stateAccessor('identity', (state) => state?.identity ?? null));
  app.decorateRequest('identityStatus', stateAccessor('identityStatus', (state) => state?.status ?? 'anonymous'));
  app.decorate('idgate', { gate, loginHandler, logoutHandler, chatProxy, kycSessionHandler } satisfies IdgateDecorator);
  app.decorate('requireIdentity', requireIdentity);

  // Callback style: a cache hit settles synchronously, without a promise or closure.
  app.addHook('onRequest', function authenticate(request, reply, next) {
    const state = gate.authenticate(request);
    // .catch: a throw inside settle (a user's `protect` function) must reach Fastify's error path, not hang the request.
    if (state instanceof Promise) state.then((s) => settle(gate, request, reply, s, next)).catch(next);
    else settle(gate, request, reply, state, next);
  });

  app.addHook('onRoute', (route) => {
    const rule: unknown = route.config?.identity;
    if (rule !== undefined) {
      if (rule !== 'required' && (typeof rule !== 'object' || rule === null)) throw new ConfigError(`idgate: route ${route.url}: config.identity must be 'required' or { where }`);
      route.onRequest = [requireWith(gate, requiredRule(rule === 'required' ? {} : rule)), ...[route.onRequest ?? []].flat()];
    } else if (gate.protectsRoute(route.url)) {
      // Fastify routes before onRequest: a route that `protect` covers is guarded itself, whatever target the router decoded into it.
      route.onRequest = [requireWith(gate, requiredRule({})), ...[route.onRequest ?? []].flat()];
    }
    const form = FORM_HANDLERS.has(route.handler);
    if (form) route.config = Object.assign({ ...route.config }, { [FORM_ROUTE]: true });
    // Fastify parses bodies before the handler runs (default cap 1 MiB): give idgate's handlers
    // the same limits as the other adapters (unless the route sets its own), and core's 413 answer.
    if (form || ENDPOINT_HANDLERS.has(route.handler)) {
      const limit = (route.bodyLimit ??= form ? gate.config.bodyLimit.login : gate.config.bodyLimit.endpoint);
      const own = route.errorHandler;
      route.errorHandler = function idgateBodyLimit(error, request, reply) {
        if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return apply(reply, payloadTooLarge(limit)), reply;
        if (own) return own.call(this, error, request, reply);
        throw error; // to the instance's error handler, as without idgate
      };
    }
  });
  // Fastify parses no forms, but login/logout forms post them. Only when the app has no parser of
  // its own, and only for idgate's handlers: other routes keep Fastify's 415, as without the plugin.
  if (!app.hasContentTypeParser(FORM)) {
    app.addContentTypeParser(FORM, { parseAs: 'string', bodyLimit: gate.config.bodyLimit.login }, (request, body, parsed) => {
      if ((request.routeOptions.config as { [FORM_ROUTE]?: true })[FORM_ROUTE]) parsed(null, body);
      else parsed(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE(FORM), undefined);
    });
  }
};

/**
 * The idgate plugin: sets `request.identity` / `request.identityStatus` on every request, clears an
 * expired cookie, enforces `protect` and route config `{ identity: 'required' }`, and decorates
 * `app.requireIdentity()` and `app.idgate`. Works with or without @fastify/cookie.
 * @param options idgate options, or a gate from `createIdgate()`; omitted, everything comes from `IDGATE_*` variables.
 * @example
 * await app.register(idgate, { protect: ['/account/*'] });
 * app.get('/account', { config: { identity: 'required' } }, (request) => request.identity);
 */
export const idgate = fp(plugin, { fastify: '5.x', name: '@idgate/fastify' });
export default idgate;
