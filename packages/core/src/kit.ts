import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { endpointOptions, runEndpoint, writeStream, type EndpointResult, type IdentityEndpoint } from './endpoint.js';
import type { ResponseDecision } from './decision.js';
import { ConfigError } from './errors.js';
import type { Idgate, RequireOptions } from './gate.js';
import type { Identity } from './identity.js';
import type { IdentityRequest } from './request.js';

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
 * handlers, in a `WeakMap` keyed by the framework's request object (adding
 * properties to a request object can cost a hidden-class transition per request).
 * The map hangs off a registered symbol, so the ESM and CJS builds, if both get
 * loaded, share it. `get` throws `mountedFirst` when the middleware never ran.
 * @param key a name unique to the adapter, e.g. `'idgate.express.tags'`.
 * @param mount how the app mounts idgate first, for the error message.
 * @example
 * const tags = requestTags<Request, Tag>('idgate.express.tags', 'app.use(identityMiddleware()) mounted');
 * tags.set(req, tag); … tags.get(req, 'loginHandler()');
 */
export function requestTags<K extends object, T>(key: string, mount: string): { set(request: K, tag: T): void; get(request: K, name: string): T } {
  const symbol = Symbol.for(key);
  const map = ((globalThis as Record<symbol, WeakMap<K, T> | undefined>)[symbol] ??= new WeakMap<K, T>());
  return {
    set(request, tag) {
      map.set(request, tag);
    },
    get(request, name) {
      const tag = map.get(request);
      if (tag === undefined) throw mountedFirst(name, mount);
      return tag;
    },
  };
}

/** What `serveNodeEndpoint` reads of the request. */
export interface NodeEndpointInput {
  /** The identity the middleware resolved (null: the endpoint answers 401). */
  identity: Identity | null;
  request: IdentityRequest;
  /** What a body parser made of the body, or undefined to read `stream`. */
  body: unknown;
  /** The unparsed request (capped at `bodyLimit.endpoint`), when no parser read it. */
  stream?: Readable | undefined;
}

/** How an adapter writes what `serveNodeEndpoint` produced, in its framework's words. */
export interface NodeEndpointWriter<R> {
  /** Write a JSON answer (`respond` or `reject`). */
  decision(decision: ResponseDecision): R;
  /** Called before a stream is written to `res` directly (Koa: `ctx.respond = false`; Fastify: `reply.hijack()`). */
  takeOver?(): void;
}

/**
 * Everything an adapter's `chatProxy` / `kycSessionHandler` does on Node:
 * abort the endpoint when the client disconnects, run it with the gate's
 * allowed origins, logger, body cap and Retry-After policy (`runEndpoint`),
 * then either hand a JSON answer to `write.decision` or stream server-sent
 * events onto `res` with backpressure.
 * @example
 * await serveNodeEndpoint(gate, endpoint, { identity: req.identity, request, body: req.body, stream: req }, res, { decision: (d) => apply(res, d, next) });
 */
export async function serveNodeEndpoint<R>(
  gate: Idgate,
  endpoint: IdentityEndpoint,
  input: NodeEndpointInput,
  res: ServerResponse,
  write: NodeEndpointWriter<R>,
): Promise<R | undefined> {
  const aborter = new AbortController();
  res.once('close', () => aborter.abort());
  const result: EndpointResult = await runEndpoint(endpoint, { ...input, signal: aborter.signal }, endpointOptions(gate));
  if (result.kind !== 'stream') return write.decision(result);
  write.takeOver?.();
  await writeStream(res, result, aborter.signal);
  return undefined;
}
