import { webBody } from './body.js';
import { applyHeaders, type HeaderTarget, type ResponseDecision } from './decision.js';
import { endpointOptions, runEndpoint, type IdentityEndpoint, type StreamResult } from './endpoint.js';
import { ConfigError } from './errors.js';
import type { Idgate, RequireOptions } from './gate.js';
import type { Identity } from './identity.js';
import type { IdentityRequest, RequestHeaders } from './request.js';

/**
 * What a route demands of the request's identity, as `decide` reads it:
 * `required` says whether a signed-in identity is needed at all (the `protect`
 * option can still require one when this says false), `where` adds a
 * predicate (false answers 403 `FORBIDDEN`).
 * @example gate.decide(state, req, { required: true, where: (id) => id.attributes.plan === 'pro' });
 */
export interface AccessRule {
  readonly required: boolean;
  readonly where?: ((identity: Identity) => boolean) | undefined;
}

/**
 * The rule of an adapter's `requireIdentity(options)`: required, with the
 * options' `where`. Built once, when the adapter's factory runs.
 * @example const rule = requiredRule(options); // then gate.decide(state, req, rule) per request
 */
export function requiredRule(options: RequireOptions = {}): AccessRule {
  return Object.freeze({ required: true, where: options.where });
}

/**
 * The one error every adapter throws when one of its handlers runs on a
 * request that idgate's middleware (or plugin) never saw.
 * @param name the handler, e.g. `'requireIdentity()'`.
 * @param mount how the app mounts idgate first, in the framework's words.
 * @example throw mountedFirst('requireIdentity()', 'app.use(identityMiddleware()) mounted');
 */
export function mountedFirst(name: string, mount: string): ConfigError {
  return new ConfigError(`idgate: ${name} needs ${mount} before it`);
}

/**
 * Per-request state that an adapter's middleware leaves for its later
 * handlers: one property under a registered symbol on the object given
 * (the framework's request, or a per-request object it makes, such as
 * Express's `res.locals`), so the ESM and CJS builds, if both get loaded,
 * see each other's. Not a `WeakMap`: an entry per short-lived request made
 * the garbage collector's ephemeron work the largest cost of a cache hit
 * (bench/PROFILE.md). On a framework whose request objects share a hidden
 * class the property is a cached transition; where every request has its own
 * (Express 5's `req`), hand `set` another per-request object. `get` throws
 * `mountedFirst` when the middleware never ran.
 * @param key a name unique to the adapter, e.g. `'idgate.express.tags'`.
 * @param mount how the app mounts idgate first, for the error message.
 * @example
 * const tags = requestTags<Context, Tag>('idgate.hono.tags', 'app.use(identityMiddleware()) mounted');
 * tags.set(c, tag); … tags.get(c, 'loginHandler()');
 */
export function requestTags<K extends object, T>(key: string, mount: string): { set(request: K, tag: T): void; get(request: K, name: string): T; find(request: K): T | undefined } {
  const symbol = Symbol.for(key);
  type Held = Record<symbol, T | undefined>;
  return {
    set(request, tag) {
      (request as Held)[symbol] = tag;
    },
    get(request, name) {
      const tag = (request as Held)[symbol];
      if (tag === undefined) throw mountedFirst(name, mount);
      return tag;
    },
    find(request) {
      return (request as Held)[symbol];
    },
  };
}

const withAccessors = new WeakSet<object>();

/**
 * Define read-only-looking accessors on a framework's request prototype, once
 * per prototype, so the middleware adds no property to each request object
 * (a hidden-class transition per request, and under Express 5 a new hidden
 * class every time). Assigning the name on a request makes an own property,
 * which then takes precedence for that request.
 * @param proto the prototype every request of the app inherits from.
 * @param getters name -> how to read it from a request.
 * @example exposeOnPrototype(Object.getPrototypeOf(ctx), { identity: (c) => c.state.identity });
 */
export function exposeOnPrototype<R extends object>(proto: object, getters: Record<string, (request: R) => unknown>): void {
  if (withAccessors.has(proto)) return;
  withAccessors.add(proto);
  for (const [name, read] of Object.entries(getters)) Object.defineProperty(proto, name, { configurable: true, enumerable: false, ...requestAccessor(name, read) });
}

/**
 * The accessor pair `exposeOnPrototype` installs for one name, for a framework
 * that installs accessors itself (Fastify's `decorateRequest` with a getter and
 * setter): reads through `read`; an assignment makes an own property, which
 * then takes precedence for that request.
 * @example const { get, set } = requestAccessor('identity', (r) => stateOf(r).identity);
 */
export function requestAccessor<R extends object>(name: string, read: (request: R) => unknown): { get(this: R): unknown; set(this: R, value: unknown): void } {
  return {
    get(this: R) {
      return read(this);
    },
    set(this: R, value: unknown) {
      Object.defineProperty(this, name, { value, writable: true, enumerable: true, configurable: true });
    },
  };
}

/**
 * A web `Headers` seen as core's `RequestHeaders`: a plain object with
 * lower-case names, built once per call (adapters build it lazily, only when
 * a decision reads more than the cookie). A repeated header arrives as
 * `Headers` joins it (`, `).
 * @example const headers = headersOf(c.req.raw.headers);
 */
export function headersOf(headers: Headers): RequestHeaders {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    out[name] = value;
  });
  return out;
}

/**
 * Core's header target over a web `Headers`: `Set-Cookie` read and written as
 * a list (`getSetCookie`), everything else as one value.
 * @example applyHeaders(webHeaderTarget(response.headers), decision);
 */
export function webHeaderTarget(headers: Headers): HeaderTarget {
  return {
    getHeader(name) {
      if (name.toLowerCase() === 'set-cookie') {
        const list = headers.getSetCookie();
        return list.length === 0 ? undefined : list;
      }
      return headers.get(name) ?? undefined;
    },
    setHeader(name, value) {
      if (typeof value === 'object') {
        headers.delete(name);
        for (const v of value) headers.append(name, v);
      } else headers.set(name, String(value));
    },
  };
}

/**
 * Render a decision that answers the request (redirect, rejection, JSON) as
 * a web `Response`, headers and cookies included.
 * @example if (decision.kind !== 'next') return toResponse(decision);
 */
export function toResponse(decision: ResponseDecision): Response {
  const headers = new Headers();
  applyHeaders(webHeaderTarget(headers), decision);
  if (decision.kind === 'redirect') {
    headers.set('Location', decision.location);
    return new Response(null, { status: decision.statusCode, headers });
  }
  headers.set('Content-Type', 'application/json; charset=utf-8');
  return new Response(JSON.stringify(decision.body), { status: decision.statusCode, headers });
}

/**
 * A `StreamResult` as a web `Response` over a pull-based `ReadableStream`: a
 * chunk is read from the endpoint only when the client has taken the last one
 * (backpressure), and a cancel (the client went away) aborts `aborter`, so the
 * upstream call ends, and closes the endpoint's iterator.
 * @example return streamResponse(result, aborter);
 */
export function streamResponse(result: StreamResult, aborter: AbortController): Response {
  const iterator = result.body[Symbol.asyncIterator]();
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = await iterator.next();
          if (done) controller.close();
          else controller.enqueue(typeof value === 'string' ? encoder.encode(value) : value);
        } catch (err) {
          controller.error(err);
        }
      },
      async cancel() {
        aborter.abort();
        await iterator.return?.();
      },
    },
    { highWaterMark: 0 },
  );
  const headers = new Headers();
  for (const [name, value] of result.headers) headers.append(name, value);
  return new Response(body, { status: result.statusCode, headers });
}

type NodeSocketHolder = { socket?: { remoteAddress?: string } };

/**
 * The client's address where each runtime hands it to a fetch-style handler
 * (`fetch(request, env)`): @hono/node-server's Node request (`env.incoming`),
 * Bun's server (`env.requestIP(request)`), Deno's serve info
 * (`env.remoteAddr`). Undefined elsewhere (core then uses 127.0.0.1). No
 * forwarded header is read: that is the app's decision.
 * @example const ip = runtimeClientIp(c.env, c.req.raw);
 */
export function runtimeClientIp(env: unknown, request: Request): string | undefined {
  const e = env as { incoming?: NodeSocketHolder; server?: { incoming?: NodeSocketHolder }; requestIP?: (r: Request) => { address: string } | null; remoteAddr?: { hostname?: string } } | null | undefined;
  const incoming = e?.incoming ?? e?.server?.incoming;
  if (incoming?.socket) return incoming.socket.remoteAddress;
  if (typeof e?.requestIP === 'function') return e.requestIP(request)?.address;
  return e?.remoteAddr?.hostname;
}

/** What `serveWebEndpoint` reads of the request. */
export interface WebEndpointInput {
  identity: Identity | null;
  request: IdentityRequest;
  /** The web request: its body is read (capped at `bodyLimit.endpoint`), its `signal` ends the endpoint. */
  raw: Request;
  /** The body as text when something already read the request's stream (Hono's `c.req.text()` cache). */
  body?: string | undefined;
}

/**
 * Everything a web-standard adapter's `chatProxy` / `kycSessionHandler` does:
 * run the endpoint with the gate's allowed origins, logger, body cap and
 * Retry-After policy (`runEndpoint`), aborted when the request's `signal`
 * fires (the client disconnected) or the streamed answer is cancelled.
 * @returns a decision to render (JSON answers), or a streaming `Response`.
 * @example
 * const out = await serveWebEndpoint(gate, endpoint, { identity, request, raw: c.req.raw });
 * return out instanceof Response ? out : render(c, out);
 */
export async function serveWebEndpoint(gate: Idgate, endpoint: IdentityEndpoint, input: WebEndpointInput): Promise<ResponseDecision | Response> {
  const aborter = new AbortController();
  const signal = input.raw.signal;
  const abort = () => aborter.abort();
  if (signal.aborted) abort();
  else signal.addEventListener('abort', abort, { once: true });
  const { identity, request } = input;
  const stream = input.body === undefined ? webBody(input.raw) : undefined;
  const result = await runEndpoint(endpoint, { identity, request, body: input.body, stream, signal: aborter.signal }, endpointOptions(gate));
  if (result.kind !== 'stream') {
    signal.removeEventListener('abort', abort);
    return result;
  }
  return streamResponse(result, aborter);
}
