import type { Context, Handler, MiddlewareHandler } from 'hono';
import {
  createIdgate,
  applyHeaders,
  headersOf,
  requestTags,
  requiredRule,
  runtimeClientIp,
  serveWebEndpoint,
  toResponse,
  webBody,
  webHeaderTarget,
  type AuthState,
  type Decision,
  type EndpointSource,
  type Idgate,
  type IdgateOptions,
  type IdentityEndpoint,
  type IdentityRequest,
  type RequestHeaders,
  type RequireOptions,
} from '@idgate/core/adapter';
import type { HonoAdapterOptions, IdgateEnv } from './types.js';

export type { Identity, IdentityStatus, IdgateOptions, RequireOptions, Idgate, EndpointSource, IdentityEndpoint } from '@idgate/core';
export type { IdgateEnv, IdgateVariables, HonoAdapterOptions } from './types.js';
export { createIdgate } from '@idgate/core';

const NONE: readonly never[] = [];

/** Hono's request seen as core's neutral `IdentityRequest`; headers are copied only when a decision reads them. */
class HonoRequest implements IdentityRequest {
  #headers: RequestHeaders | undefined;
  constructor(private readonly c: Context, private readonly clientIp: (c: Context) => string | undefined) {}
  get method() { return this.c.req.method; }
  /** Path and query, cut from the URL where Hono's router cuts it (an absolute-form target reads as its path). */
  get url() {
    const url = this.c.req.url;
    const start = url.indexOf('/', url.indexOf(':') + 4);
    return start === -1 ? '/' : url.slice(start);
  }
  get headers() { return (this.#headers ??= headersOf(this.c.req.raw.headers)); }
  get ip() { return this.clientIp(this.c); }
  get protocol() { return this.c.req.url.startsWith('https:') ? ('https' as const) : ('http' as const); }
}

/** What the middleware leaves for the later handlers of one request. */
interface Tag {
  readonly gate: Idgate;
  readonly view: HonoRequest;
  state: AuthState;
  /** Every decision's headers and cookies, in order: applied to the final response by the middleware. */
  readonly decisions: Decision[];
}

// The tag is a property of Hono's Context (the kit's registered symbol; the
// same shape change on every Context), not a WeakMap entry: under load, those
// cost about 9 µs of garbage collection per request (bench/PROFILE.md, Hono).
const tags = requestTags<Context, Tag>('idgate.hono.tag', 'app.use(identityMiddleware()) mounted');

/**
 * The request body for core: the stream, read and capped by core; or, when a
 * middleware already read it through Hono (`c.req.json()` and friends cache
 * it), that text.
 */
async function bodyOf(c: Context): Promise<{ body?: string; stream?: ReturnType<typeof webBody> }> {
  return c.req.raw.bodyUsed ? { body: await c.req.text() } : { stream: webBody(c.req.raw) };
}

const runtimeIp = (c: Context) => runtimeClientIp(c.env, c.req.raw);

/** A decision that answers, as a Response without its headers: the middleware applies those, in order, to whatever response the request ends with. */
function answer(tag: Tag, decision: Decision): Response {
  tag.decisions.push(decision);
  if (decision.kind === 'next') return new Response(null, { status: 204 });
  return toResponse({ ...decision, headers: NONE, setCookies: NONE });
}

/**
 * Apply every recorded decision's headers to the final response (re-wrapped
 * once if its headers are immutable, as a fetched Response's are). On
 * @hono/node-server a light response's `headers` are the live headers it is
 * sent with, so writing them keeps its fast path.
 */
function finish(c: Context, decisions: readonly Decision[]): void {
  const write = (headers: Headers) => {
    const target = webHeaderTarget(headers);
    for (const decision of decisions) applyHeaders(target, decision);
  };
  try {
    write(c.res.headers);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    c.res = new Response(c.res.body, c.res);
    write(c.res.headers);
  }
}

/**
 * Resolve the `identityId` cookie on every request: sets `c.var.identity` and
 * `c.var.identityStatus`, clears an expired cookie, and enforces the `protect`
 * option. Runs on Node (@hono/node-server), Bun and Deno.
 * @param options idgate options, or a gate from `createIdgate()`; omitted, everything comes from `IDGATE_*` variables.
 * @param adapter.clientIp how to read the client's IP (Hono has no trust-proxy setting).
 * @example
 * const app = new Hono<IdgateEnv>();
 * app.use(identityMiddleware());
 * @example
 * app.use(identityMiddleware({ protect: ['/account/*'], loginUrl: '/signin' }));
 */
export function identityMiddleware(options?: IdgateOptions | Idgate, adapter: HonoAdapterOptions = {}): MiddlewareHandler<IdgateEnv> {
  const gate = createIdgate(options);
  const clientIp = adapter.clientIp ?? runtimeIp;
  return async function idgate(c, next) {
    const pending = gate.authenticateHeader(c.req.raw.headers.get('cookie'));
    const state = pending instanceof Promise ? await pending : pending;
    const view = new HonoRequest(c, clientIp);
    const tag: Tag = { gate, view, state, decisions: [] };
    tags.set(c, tag);
    c.set('identity', state.identity);
    c.set('identityStatus', state.status);
    const decision = gate.decide(state, view);
    if (decision.kind !== 'next') return toResponse(decision);
    tag.decisions.push(decision);
    await next();
    finish(c, tag.decisions);
  };
}

/** `identityMiddleware` under the name Hono's own middlewares use. @example app.use(identity()); */
export const identity = identityMiddleware;

/**
 * Require a signed-in identity on a route: browser navigations are redirected
 * (303) to the login URL with `returnTo`, API calls get 401 JSON
 * (`UNAUTHENTICATED`, `SESSION_EXPIRED`, `INVALID_IDENTITY`), an unreachable
 * upstream 503 with Retry-After.
 * @param options.where extra condition on the identity; false answers 403 `FORBIDDEN`.
 * @example
 * app.get('/account', requireIdentity(), (c) => c.json(c.var.identity));
 * @example
 * app.get('/admin', requireIdentity({ where: (id) => id.attributes.role === 'admin' }), handler);
 */
export function requireIdentity(options: RequireOptions = {}): MiddlewareHandler<IdgateEnv> {
  const rule = requiredRule(options);
  return async function requireIdentity(c, next) {
    const tag = tags.get(c, 'requireIdentity()');
    const decision = tag.gate.decide(tag.state, tag.view, rule);
    if (decision.kind !== 'next') return answer(tag, decision);
    tag.decisions.push(decision);
    await next();
  };
}

/**
 * POST handler that signs a customer in against the upstream: JSON or
 * urlencoded body `{ email, password, returnTo? }`, read and capped by idgate.
 * A form post is redirected to the safe `returnTo`; JSON gets `{ authenticated, identity }`.
 * @example
 * app.post('/login', loginHandler());
 */
export function loginHandler(): Handler<IdgateEnv> {
  return async function loginHandler(c) {
    const tag = tags.get(c, 'loginHandler()');
    const { body, stream } = await bodyOf(c);
    return answer(tag, await tag.gate.login(tag.view, body, stream));
  };
}

/**
 * POST handler that signs out: upstream logout, cache invalidation, cookie
 * cleared; a form post is redirected to `afterLogoutUrl`, JSON gets `{ loggedOut: true }`.
 * @example
 * app.post('/logout', logoutHandler());
 */
export function logoutHandler(): Handler<IdgateEnv> {
  return async function logoutHandler(c) {
    const tag = tags.get(c, 'logoutHandler()');
    const { stream } = await bodyOf(c);
    return answer(tag, await tag.gate.logout(tag.view, stream));
  };
}

function endpointHandler(name: string, endpoint: IdentityEndpoint): Handler<IdgateEnv> {
  return async function identityEndpoint(c) {
    const tag = tags.get(c, name);
    const { body } = await bodyOf(c);
    const out = await serveWebEndpoint(tag.gate, endpoint, { identity: tag.state.identity, request: tag.view, raw: c.req.raw, body });
    if (!(out instanceof Response)) return answer(tag, out);
    // A stream's own headers come last, as on Node (writeStream applies them over the earlier decisions'): its no-store stays no-store.
    const own: [string, string][] = [];
    out.headers.forEach((value, name) => own.push([name, value]));
    tag.decisions.push({ kind: 'next', identity: tag.state.identity, status: tag.state.status, headers: own, setCookies: NONE });
    return out;
  };
}

/**
 * Forward the request to the chat API as the verified identity (never the
 * body's `userId`); `stream: true` passes server-sent events through a
 * `ReadableStream` as they arrive, and a client disconnect aborts the upstream call.
 * @param forwarder from `createChatForwarder()` in `@idgate/chat`.
 * @example
 * app.post('/chat', requireIdentity(), chatProxy(createChatForwarder({ baseUrl, apiKey, agentId })));
 */
export function chatProxy(forwarder: EndpointSource): Handler<IdgateEnv> {
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
export function kycSessionHandler<O>(client: EndpointSource<O>, options?: O): Handler<IdgateEnv> {
  return endpointHandler('kycSessionHandler()', client.endpoint(options));
}
