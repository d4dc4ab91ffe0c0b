import { NO_STORE_HEADERS, type ResponseDecision } from './decision.js';
import { RequestError } from './errors.js';

/** The largest login/logout body idgate reads by default (option `bodyLimit.login`). */
export const MAX_FORM_BYTES = 16 * 1024;

/**
 * The one answer to a body over its limit, on every adapter (Express and Koa
 * through `readBody`, Fastify through its route-level `bodyLimit`): 413,
 * `no-store`, `{ error: 'PAYLOAD_TOO_LARGE', message }`, never a stack.
 * @example apply(reply, payloadTooLarge(gate.config.bodyLimit.login));
 */
export function payloadTooLarge(limit: number): ResponseDecision {
  return {
    kind: 'reject',
    statusCode: 413,
    body: { error: 'PAYLOAD_TOO_LARGE', message: `The request body is larger than ${limit} bytes.` },
    headers: NO_STORE_HEADERS,
    setCookies: [],
  };
}

/** What kind of body a request says it carries. */
export function bodyKind(contentType: string | undefined): 'json' | 'form' | 'other' | 'none' {
  if (!contentType) return 'none';
  const type = contentType.split(';', 1)[0]!.trim().toLowerCase();
  if (type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'))) return 'json';
  if (type === 'application/x-www-form-urlencoded') return 'form';
  return 'other';
}

/**
 * A request body not read yet: anything async-iterable over bytes or strings.
 * Node's `IncomingMessage` is one (it also brings its `headers`, for the
 * declared length); so is a web `ReadableStream` (`webBody(request)` adds the
 * request's Content-Length). `readableEnded` true means there is nothing left.
 */
export interface BodySource extends AsyncIterable<Uint8Array | string> {
  readonly headers?: { readonly 'content-length'?: string | string[] | null | undefined } | undefined;
  readonly readableEnded?: boolean | undefined;
}

/**
 * Read a request body that no body parser has read, up to `limit` bytes
 * (then `RequestError('PAYLOAD_TOO_LARGE')`, 413; a declared Content-Length
 * over the limit fails before reading), decoded as UTF-8. Works on a Node
 * `IncomingMessage` and on a web `ReadableStream` alike.
 * @example const text = await readBody(req, gate.config.bodyLimit.login);
 */
export async function readBody(stream: BodySource, limit = MAX_FORM_BYTES): Promise<string> {
  const declared = Number(stream.headers?.['content-length']);
  if (declared > limit) throw new RequestError('PAYLOAD_TOO_LARGE', `The request body is larger than ${limit} bytes.`);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? ENCODER.encode(chunk) : chunk;
    size += bytes.byteLength;
    if (size > limit) throw new RequestError('PAYLOAD_TOO_LARGE', `The request body is larger than ${limit} bytes.`);
    chunks.push(bytes);
  }
  return utf8(chunks, size);
}

const ENCODER = new TextEncoder();

/** Decode byte chunks as one UTF-8 text (invalid sequences become U+FFFD, as Node's Buffer does). */
export function utf8(chunks: readonly Uint8Array[], size = chunks.reduce((n, c) => n + c.byteLength, 0)): string {
  if (chunks.length === 1) return new TextDecoder().decode(chunks[0]);
  const all = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.byteLength;
  }
  return new TextDecoder().decode(all);
}

/**
 * A web request's body as a `BodySource` that `readBody` can cap before
 * reading (the declared Content-Length travels with it).
 * @example await gate.login(view, undefined, webBody(c.req.raw));
 */
export function webBody(request: { readonly body: ReadableStream<Uint8Array> | null; readonly headers: { get(name: string): string | null } }): BodySource | undefined {
  const body = request.body;
  if (body === null) return undefined;
  return { headers: { 'content-length': request.headers.get('content-length') }, [Symbol.asyncIterator]: () => body[Symbol.asyncIterator]() };
}

/**
 * Turn a body into a plain field map, whether a framework already parsed it
 * (an object) or we read it raw (a string). Only string fields survive;
 * prototype keys are dropped.
 */
export function formFields(kind: 'json' | 'form', body: unknown): Record<string, string> {
  let data: unknown = body;
  if (typeof body === 'string' || body instanceof Uint8Array) {
    const text = typeof body === 'string' ? body : utf8([body]);
    if (kind === 'json') {
      try {
        data = text === '' ? {} : JSON.parse(text);
      } catch (cause) {
        throw new RequestError('BAD_REQUEST', 'body is not valid JSON', { cause });
      }
    } else {
      data = Object.fromEntries(new URLSearchParams(text));
    }
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new RequestError('BAD_REQUEST', 'body must be an object');
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(data)) {
    if (typeof v === 'string' && k !== '__proto__' && k !== 'constructor' && k !== 'prototype') out[k] = v;
  }
  return out;
}
