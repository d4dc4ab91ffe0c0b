/**
 * `@idgate/core/node`: the Node-only part of the adapter kit (a `ServerResponse`
 * to stream onto). Web-standard adapters use `serveWebEndpoint` from `@idgate/core/adapter`.
 * @module
 */

import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { BodySource } from './body.js';
import { applyHeaders, type ResponseDecision } from './decision.js';
import { endpointOptions, runEndpoint, type EndpointResult, type IdentityEndpoint, type StreamResult } from './endpoint.js';
import type { Idgate } from './gate.js';
import type { Identity } from './identity.js';
import type { IdentityRequest } from './request.js';

/** What `serveNodeEndpoint` reads of the request. */
export interface NodeEndpointInput {
  /** The identity the middleware resolved (null: the endpoint answers 401). */
  identity: Identity | null;
  request: IdentityRequest;
  /** What a body parser made of the body, or undefined to read `stream`. */
  body: unknown;
  /** The unparsed request (capped at `bodyLimit.endpoint`), when no parser read it. */
  stream?: BodySource | undefined;
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

/**
 * Write a `StreamResult` to a Node response as chunks arrive, waiting for
 * `drain` when the client reads slowly; stops when the client goes away.
 * Koa (`ctx.respond = false`) and Fastify (`reply.hijack()`) hand us the raw response.
 * @example await writeStream(res, result, aborter.signal);
 */
export async function writeStream(res: ServerResponse, result: StreamResult, signal: AbortSignal): Promise<void> {
  res.statusCode = result.statusCode;
  applyHeaders(res, { kind: 'next', identity: null, status: 'authenticated', headers: result.headers, setCookies: [] });
  res.flushHeaders();
  try {
    for await (const chunk of result.body) {
      if (signal.aborted || res.destroyed) break;
      if (!res.write(chunk)) {
        // Drop the losing listener: otherwise every drain wait leaves a 'close' and an 'error' listener until the end.
        const waited = new AbortController();
        await Promise.race([once(res, 'drain', { signal: waited.signal }), once(res, 'close', { signal: waited.signal })]).finally(() => waited.abort());
      }
    }
  } finally {
    if (!res.destroyed) res.end();
  }
}
