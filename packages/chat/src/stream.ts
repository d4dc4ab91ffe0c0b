import type { Header, Logger } from '@idgate/core/adapter';
import type { UpstreamCall } from './call.js';
import { toChatError } from './errors.js';

/**
 * Headers of a relayed stream: no caching anywhere, no proxy buffering (nginx honours X-Accel-Buffering).
 * @example return { kind: 'stream', statusCode: 200, headers: SSE_HEADERS, body };
 */
export const SSE_HEADERS: readonly Header[] = Object.freeze([
  ['Content-Type', 'text/event-stream'],
  ['cache-control', 'no-store'],
  ['X-Accel-Buffering', 'no'],
] as const);

/** An event this large without its blank line is not a chat stream; stop rather than buffer without bound. */
const MAX_EVENT_CHARS = 1_048_576;

/**
 * Options of `relayEvents`.
 * @example relayEvents(res.body, { call, logger, onEvents: (text) => sniff(text) });
 */
export interface RelayOptions {
  call: UpstreamCall;
  logger: Logger;
  /** Sees every complete event's text before it is passed on. */
  onEvents?: (events: string) => void;
}

/**
 * Pass an upstream server-sent-event body through as it arrives, cut at event
 * boundaries (a blank line) so that a failure never leaves the client with
 * half an event. It reads the next chunk only when the consumer asks
 * (`writeStream` waits for `drain`), so a slow client slows the upstream read
 * instead of filling memory. A client that leaves ends it quietly and aborts
 * the upstream request; an upstream failure mid-stream ends it with a Bookbag
 * `error` frame and `[DONE]`.
 * @example return { kind: 'stream', statusCode: 200, headers: SSE_HEADERS, body: relayEvents(res.body, { call, logger }) };
 */
export async function* relayEvents(body: ReadableStream<Uint8Array>, options: RelayOptions): AsyncGenerator<string> {
  const { call, logger, onEvents } = options;
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let pending = '';
  try {
    for (;;) {
      call.arm();
      const { done, value } = await reader.read();
      call.disarm();
      if (done) break;
      pending += decoder.decode(value, { stream: true });
      const cut = eventsEnd(pending);
      if (cut === 0) {
        if (pending.length > MAX_EVENT_CHARS) throw new Error(`an event larger than ${MAX_EVENT_CHARS} characters`);
        continue;
      }
      const events = pending.slice(0, cut);
      pending = pending.slice(cut);
      onEvents?.(events);
      yield events;
    }
    pending += decoder.decode();
    // The upstream ended without a final blank line: pass the rest on as it is.
    if (pending !== '') yield pending;
  } catch (err) {
    if (call.clientGone) return;
    const error = toChatError(err, call.timedOut);
    logger.warn({ event: 'chat-stream-failed', code: error.code }, error.message);
    yield `data: ${JSON.stringify({ type: 'error', errorText: error.message, code: error.code })}\n\ndata: [DONE]\n\n`;
  } finally {
    // Also runs when the consumer stops early (client gone): closes the upstream socket.
    call.end();
  }
}

/** Index just past the last blank line (`\n\n`, `\r\n\r\n` or `\r\r`), or 0. */
function eventsEnd(text: string): number {
  let end = 0;
  for (const sep of ['\n\n', '\r\n\r\n', '\r\r']) {
    const i = text.lastIndexOf(sep);
    if (i !== -1) end = Math.max(end, i + sep.length);
  }
  return end;
}
