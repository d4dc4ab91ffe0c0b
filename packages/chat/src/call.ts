/**
 * One upstream request's lifetime (`upstreamCall()` makes one): aborted when the client disconnects, when
 * `timeout` passes while armed, or when `end()` runs. `AbortSignal.timeout()`
 * cannot be re-armed, and a stream needs a fresh deadline for every chunk.
 */
export interface UpstreamCall {
  readonly signal: AbortSignal;
  /** True once the deadline fired. */
  readonly timedOut: boolean;
  /** True once the client went away. */
  readonly clientGone: boolean;
  /** (Re)start the deadline. */
  arm(): void;
  disarm(): void;
  /** Release everything and abort the request if still open (idempotent). */
  end(): void;
}

/**
 * Link an upstream request to the client's signal and a deadline.
 * @example const call = upstreamCall(input.signal, 60_000); call.arm(); await fetch(url, { signal: call.signal });
 */
export function upstreamCall(client: AbortSignal, timeoutMs: number): UpstreamCall {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const onClientAbort = () => controller.abort(client.reason);
  if (client.aborted) onClientAbort();
  else client.addEventListener('abort', onClientAbort, { once: true });
  return {
    signal: controller.signal,
    get timedOut() {
      return timedOut;
    },
    get clientGone() {
      return client.aborted;
    },
    arm() {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError'));
      }, timeoutMs);
    },
    disarm() {
      clearTimeout(timer);
    },
    end() {
      clearTimeout(timer);
      client.removeEventListener('abort', onClientAbort);
      controller.abort();
    },
  };
}
