import type { IdgateEvent, UpstreamOperation } from './events.js';
import { IdgateError, UpstreamError } from './errors.js';

/**
 * Run one upstream call and report it as an `upstream-call` event: start time,
 * duration in seconds, outcome and error code. A typed error that is not an
 * `UpstreamError` (a `LoginError`, a `KycError` for a 4xx) is a definitive
 * answer, reported as `rejected`; anything else thrown is an `error`. Without
 * a listener the call runs untouched. `provider` names the identity provider
 * on its calls (verify, login, logout).
 * @example
 * const session = await timeUpstreamCall(config.onEvent, 'kyc', () => call(customer));
 */
export async function timeUpstreamCall<T>(emit: ((event: IdgateEvent) => void) | undefined, operation: UpstreamOperation, call: () => Promise<T>, provider?: string): Promise<T> {
  if (!emit) return call();
  const startedAt = Date.now();
  const t0 = performance.now();
  const report = (outcome: 'ok' | 'rejected' | 'error', code?: string) => {
    const seconds = (performance.now() - t0) / 1000;
    const event: IdgateEvent = { type: 'upstream-call', operation, startedAt, seconds, outcome, ...(code === undefined ? {} : { code }), ...(provider === undefined ? {} : { provider }) };
    // A throwing listener must not turn a good answer into a failure.
    try {
      emit(event);
    } catch {
      /* the gate's listener already logs its own failures */
    }
  };
  try {
    const result = await call();
    report('ok');
    return result;
  } catch (err) {
    const definitive = err instanceof IdgateError && !(err instanceof UpstreamError) && (err.status ?? 500) < 500;
    report(definitive ? 'rejected' : 'error', err instanceof IdgateError ? err.code : 'UNKNOWN');
    throw err;
  }
}
