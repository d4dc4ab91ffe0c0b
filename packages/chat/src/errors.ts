import { IdgateError, parseRetryAfter, UpstreamError } from '@idgate/core/adapter';

/**
 * The stable codes of `ChatError`: a bad client body, a conversation not
 * theirs, and the chat API's failures. They extend core's codes, not part of them.
 * @example const retryable: ChatErrorCode[] = ['CHAT_RATE_LIMITED', 'CHAT_UPSTREAM_UNAVAILABLE', 'CHAT_UPSTREAM_TIMEOUT'];
 */
export type ChatErrorCode =
  | 'CHAT_BAD_REQUEST'
  | 'CHAT_MESSAGE_TOO_LARGE'
  | 'CHAT_CONVERSATION_NOT_FOUND'
  | 'CHAT_UPSTREAM_REJECTED'
  | 'CHAT_UPSTREAM_ERROR'
  | 'CHAT_RATE_LIMITED'
  | 'CHAT_UPSTREAM_UNAVAILABLE'
  | 'CHAT_UPSTREAM_TIMEOUT';

/**
 * A chat request that failed: a bad client body (400/413), a conversation the
 * customer does not own (404), or an upstream that refused, throttled, failed
 * or did not answer (502/503). The message is safe to show: it never carries
 * the upstream's body, which might hold secrets.
 * @example
 * catch (err) { if (err instanceof ChatError && err.code === 'CHAT_RATE_LIMITED') retryIn(err.retryAfter); }
 */
export class ChatError extends IdgateError<ChatErrorCode> {
  /** Seconds the client may wait before retrying (429/503), when known. */
  readonly retryAfter: number | undefined;
  constructor(code: ChatErrorCode, message: string, options: { status: number; retryAfter?: number | undefined; cause?: unknown }) {
    super(code, message, options);
    this.retryAfter = options.retryAfter;
  }
}

/**
 * The error for an upstream answer that is not a 2xx. The body is never read:
 * only the status and Retry-After decide.
 * @example throw upstreamStatusError(res.status, res.headers);
 */
export function upstreamStatusError(status: number, headers: Headers): ChatError {
  if (status === 401 || status === 403) {
    // Our key was refused: the customer cannot fix that, so it is a bad gateway, not a 401 for them.
    return new ChatError('CHAT_UPSTREAM_REJECTED', `The chat service refused this server's credentials (upstream ${status}).`, { status: 502 });
  }
  const retryAfter = parseRetryAfter(headers.get('retry-after'));
  if (status === 429) return new ChatError('CHAT_RATE_LIMITED', 'The chat service is busy. Try again shortly.', { status: 503, retryAfter });
  if (status === 503) return new ChatError('CHAT_UPSTREAM_UNAVAILABLE', 'The chat service is unavailable. Try again shortly.', { status: 503, retryAfter });
  if (status >= 500) return new ChatError('CHAT_UPSTREAM_ERROR', `The chat service failed to answer (upstream ${status}).`, { status: 502 });
  return new ChatError('CHAT_UPSTREAM_REJECTED', `The chat service refused the request (upstream ${status}).`, { status: 502 });
}

/**
 * A failure on the way to or from the upstream (network, timeout, `requestJson`'s `UpstreamError`) as a `ChatError`.
 * @example catch (err) { throw toChatError(err, call.timedOut); }
 */
export function toChatError(err: unknown, timedOut = false): ChatError {
  if (err instanceof ChatError) return err;
  if (err instanceof UpstreamError) {
    if (err.code === 'UPSTREAM_TIMEOUT') return timeout(err);
    if (err.code === 'UPSTREAM_BAD_RESPONSE') return badResponse('an unreadable answer', err);
    return new ChatError('CHAT_UPSTREAM_UNAVAILABLE', 'The chat service is unavailable. Try again shortly.', { status: 503, retryAfter: err.retryAfter, cause: err });
  }
  if (timedOut) return timeout(err);
  return new ChatError('CHAT_UPSTREAM_UNAVAILABLE', 'The chat service is unreachable. Try again shortly.', { status: 503, cause: err });
}

/**
 * An upstream 2xx whose body is not what the contract says (502).
 * @example if (!parsed.success) throw badResponse('an answer that does not match the contract', parsed.error);
 */
export function badResponse(what: string, cause?: unknown): ChatError {
  return new ChatError('CHAT_UPSTREAM_ERROR', `The chat service sent ${what}.`, { status: 502, cause });
}

function timeout(cause: unknown): ChatError {
  return new ChatError('CHAT_UPSTREAM_TIMEOUT', 'The chat service did not answer in time. Try again shortly.', { status: 503, cause });
}
