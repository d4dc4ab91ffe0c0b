import { bodyKind, payloadTooLarge, readBody, utf8, type BodySource } from './body.js';
import { NO_STORE_HEADERS, type Header, type ResponseDecision } from './decision.js';
import { IdgateError, RequestError } from './errors.js';
import type { Idgate } from './gate.js';
import { clientRetryAfter } from './http.js';
import type { Identity } from './identity.js';
import type { Logger } from './logger.js';
import { isSameOriginPost, type IdentityRequest } from './request.js';

/** What an identity-bound endpoint (chat proxy, KYC session) receives. */
export interface EndpointInput {
  /** The verified identity: the only source of "who" an endpoint may use. */
  identity: Identity;
  request: IdentityRequest;
  /** The parsed JSON body (an object), or `{}` when the request had none. */
  body: Record<string, unknown>;
  /** Aborted when the client disconnects. */
  signal: AbortSignal;
}

/** A streamed answer (server-sent events), written with backpressure. */
export interface StreamResult {
  readonly kind: 'stream';
  readonly statusCode: number;
  readonly headers: readonly Header[];
  readonly body: AsyncIterable<Uint8Array | string>;
}

/** What an endpoint answers: JSON (`respond`/`reject`) or a stream. */
export type EndpointResult = ResponseDecision | StreamResult;

/** A server-side endpoint bound to the verified identity. */
export interface IdentityEndpoint {
  handle(input: EndpointInput): Promise<EndpointResult>;
}

/**
 * Something that can make an endpoint: `createChatForwarder()` and
 * `createKycClient()` results implement it, so adapters need not import them.
 */
export interface EndpointSource<O = undefined> {
  endpoint(options?: O): IdentityEndpoint;
}

/** Options of `runEndpoint`. */
export interface RunEndpointOptions {
  allowedOrigins: readonly string[];
  logger: Logger;
  /** Body cap in bytes. @default 65536 */
  maxBodyBytes?: number;
  /** Largest Retry-After sent to the client, in seconds. @default 3600 */
  retryAfterCap?: number;
  /** Retry-After when the error suggests none, in seconds. @default 5 */
  retryAfter?: number;
}

/**
 * The `runEndpoint` options of a gate: its allowed origins, logger,
 * `bodyLimit.endpoint`, `retryAfterCap` and `retryAfter`. What every adapter passes.
 * @example await runEndpoint(endpoint, input, endpointOptions(gate));
 */
export function endpointOptions(gate: Pick<Idgate, 'config' | 'logger'>): RunEndpointOptions {
  const { config } = gate;
  return {
    allowedOrigins: config.allowedOrigins,
    logger: gate.logger,
    maxBodyBytes: config.bodyLimit.endpoint,
    retryAfterCap: config.retryAfterCap,
    retryAfter: config.retryAfter,
  };
}

function rejectWith(statusCode: number, error: string, message: string, headers: readonly Header[] = NO_STORE_HEADERS): ResponseDecision {
  return { kind: 'reject', statusCode, body: { error, message }, headers, setCookies: [] };
}

/**
 * Everything an adapter's `chatProxy` / `kycSessionHandler` does besides
 * writing the answer: require the identity, refuse cross-site and non-JSON
 * posts, read and parse the body (capped), call the endpoint, and turn an
 * `IdgateError` into a JSON rejection without a stack trace.
 */
export async function runEndpoint(
  endpoint: IdentityEndpoint,
  input: { identity: Identity | null; request: IdentityRequest; body: unknown; stream?: BodySource | undefined; signal: AbortSignal },
  options: RunEndpointOptions,
): Promise<EndpointResult> {
  const { identity, request } = input;
  if (!identity) return rejectWith(401, 'UNAUTHENTICATED', 'Sign in first.');
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    if (!isSameOriginPost(request, options.allowedOrigins)) return rejectWith(403, 'FORBIDDEN_ORIGIN', 'Cross-site request refused.');
  }
  try {
    let raw = input.body;
    const kind = bodyKind(request.headers['content-type']);
    if (raw === undefined && input.stream && kind !== 'none') {
      if (kind !== 'json') return rejectWith(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send JSON.');
      raw = await readBody(input.stream, options.maxBodyBytes ?? 65_536);
    } else if (raw !== undefined && kind !== 'json' && kind !== 'none') {
      return rejectWith(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send JSON.');
    }
    let body: unknown = raw ?? {};
    if (typeof body === 'string' || body instanceof Uint8Array) {
      const text = typeof body === 'string' ? body : utf8([body]);
      try {
        body = text === '' ? {} : JSON.parse(text);
      } catch (cause) {
        throw new RequestError('BAD_REQUEST', 'body is not valid JSON', { cause });
      }
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new RequestError('BAD_REQUEST', 'body must be a JSON object');
    return await endpoint.handle({ identity, request, body: body as Record<string, unknown>, signal: input.signal });
  } catch (err) {
    if (!(err instanceof IdgateError)) throw err;
    options.logger.warn({ event: 'endpoint-error', code: err.code, status: err.status }, err.message);
    if (err.code === 'PAYLOAD_TOO_LARGE') return payloadTooLarge(options.maxBodyBytes ?? 65_536);
    const retryAfter = (err as { retryAfter?: number }).retryAfter;
    const headers: Header[] = [...NO_STORE_HEADERS];
    if (err.status === 429 || err.status === 503) {
      headers.push(['retry-after', String(clientRetryAfter(retryAfter, options.retryAfterCap ?? 3600, options.retryAfter ?? 5))]);
    }
    return rejectWith(err.status, err.code, err.message, headers);
  }
}
