import type { Readable } from 'node:stream';
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
 * Read a request body that no body parser has read, up to `limit` bytes
 * (then `RequestError('PAYLOAD_TOO_LARGE')`, 413; a declared Content-Length
 * over the limit fails before reading). Works on any Node `IncomingMessage`.
 */
export async function readBody(stream: Readable, limit = MAX_FORM_BYTES): Promise<string> {
  const declared = Number((stream as { headers?: Record<string, unknown> }).headers?.['content-length']);
  if (declared > limit) throw new RequestError('PAYLOAD_TOO_LARGE', `The request body is larger than ${limit} bytes.`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (size > limit) throw new RequestError('PAYLOAD_TOO_LARGE', `The request body is larger than ${limit} bytes.`);
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Turn a body into a plain field map, whether a framework already parsed it
 * (an object) or we read it raw (a string). Only string fields survive;
 * prototype keys are dropped.
 */
export function formFields(kind: 'json' | 'form', body: unknown): Record<string, string> {
  let data: unknown = body;
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    const text = String(body);
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
