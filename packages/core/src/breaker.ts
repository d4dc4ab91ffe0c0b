import { UpstreamError } from './errors.js';

/** Circuit breaker settings. */
export interface BreakerOptions {
  /** Consecutive transient failures that open the circuit. @default 5 */
  threshold: number;
  /** How long an open circuit fails fast before letting one probe through (ms). @default 5000 */
  cooldown: number;
}

/** The breaker's state, for metrics and tests. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** Stops hammering a failing upstream: fails fast while open, lets one probe through to close again. */
export interface Breaker {
  run<T>(call: () => Promise<T>): Promise<T>;
  state(): BreakerState;
}

/**
 * A consecutive-failure circuit breaker. Only outages count as failures:
 * `UpstreamError`s with `outage: true` (timeouts, network errors, 5xx, 429,
 * unreadable 2xx). A definitive answer, whatever it says (a 4xx with an HTML
 * body included), proves the upstream is up: it is never counted.
 * @example
 * const breaker = createBreaker({ threshold: 5, cooldown: 5000 });
 * await breaker.run(() => client.profile(id));
 */
export function createBreaker(options: BreakerOptions, now: () => number = Date.now): Breaker {
  let failures = 0;
  let openedAt = 0;
  let probing = false;
  const current = (): BreakerState => {
    if (failures < options.threshold) return 'closed';
    return now() - openedAt >= options.cooldown ? 'half-open' : 'open';
  };
  return {
    state: current,
    async run(call) {
      const state = current();
      if (state === 'open' || (state === 'half-open' && probing)) {
        const wait = Math.max(1, Math.ceil((options.cooldown - (now() - openedAt)) / 1000));
        throw new UpstreamError('UPSTREAM_UNAVAILABLE', 'upstream circuit open: failing fast', { retryAfter: wait });
      }
      const probe = state === 'half-open';
      if (probe) probing = true;
      try {
        const result = await call();
        failures = 0;
        return result;
      } catch (err) {
        // Outages only: a definitive 4xx (any body) proves the upstream is up, so
        // strangers cannot open the circuit for everyone with calls it refuses.
        if (err instanceof UpstreamError && err.outage) {
          failures = probe ? options.threshold : failures + 1;
          if (failures >= options.threshold) openedAt = now();
        }
        throw err;
      } finally {
        if (probe) probing = false;
      }
    },
  };
}
