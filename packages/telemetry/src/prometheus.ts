import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { BreakerState, Idgate, IdgateEvent } from '@idgate/core/adapter';

/** Upper bounds (seconds) of the upstream duration histogram: 5 ms to 10 s, where identity, chat and KYC calls land. */
export const UPSTREAM_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Options of `prometheusMetrics()`. */
export interface PrometheusMetricsOptions {
  /** The prom-client Registry to register into (yours, or prom-client's default `register`). */
  registry: Registry;
  /** Name prefix of every metric. @default 'idgate' */
  prefix?: string;
  /**
   * The idgate instance whose cache sizes and circuit state the gauges read at
   * scrape time (`createIdgate(options)`, passed on to the adapter; Fastify:
   * `app.idgate.gate`). Without it there are no gauges.
   * @default none
   */
  gate?: Idgate;
  /** Histogram buckets, in seconds. @default UPSTREAM_BUCKETS */
  buckets?: readonly number[];
}

/** What `prometheusMetrics()` returns: a listener for idgate's (and chat's, KYC's) `onEvent`. */
export interface PrometheusMetrics {
  /** Pass as `onEvent` to idgate, `createChatForwarder` and `createKycClient`. */
  onEvent(event: IdgateEvent): void;
}

const CIRCUIT_STATES: readonly BreakerState[] = ['closed', 'half-open', 'open'];

/**
 * Register idgate's metrics in a prom-client Registry and return the `onEvent`
 * listener that feeds them. Counters end in `_total`, durations are seconds,
 * and no label ever carries an identityId, e-mail, key or message: labels are
 * the operation, the outcome and stable error codes only. Call it once per
 * Registry (prom-client refuses a metric name twice).
 *
 * Metrics (with the default prefix): `idgate_upstream_request_duration_seconds`
 * {operation, outcome} histogram; `idgate_upstream_errors_total` {operation,
 * code}; `idgate_cache_lookups_total` {result: hit|miss};
 * `idgate_sessions_verified_total`, `idgate_sessions_refreshed_total`,
 * `idgate_sessions_ended_total` {reason}, `idgate_stale_served_total`;
 * `idgate_logins_total` {outcome: success|failed|throttled},
 * `idgate_login_throttled_total` {reason: email|ip}, `idgate_logouts_total`,
 * `idgate_store_errors_total` {operation}; with `gate`: `idgate_cache_entries`
 * {kind: positive|negative|inflight|tombstones} and
 * `idgate_upstream_circuit_state` {state: closed|half-open|open}, 1 for the
 * current state and 0 for the others.
 * @example
 * import { Registry } from 'prom-client';
 * import { prometheusMetrics } from '@idgate/telemetry/prometheus';
 * const registry = new Registry();
 * const gate = createIdgate({ onEvent: (e) => metrics.onEvent(e) });
 * const metrics = prometheusMetrics({ registry, gate });
 * app.use(identityMiddleware(gate));
 * app.get('/metrics', async (_req, res) => res.type(registry.contentType).send(await registry.metrics()));
 */
export function prometheusMetrics(options: PrometheusMetricsOptions): PrometheusMetrics {
  const { registry, gate } = options;
  const p = options.prefix ?? 'idgate';
  const registers = [registry];
  const duration = new Histogram({
    name: `${p}_upstream_request_duration_seconds`,
    help: 'Duration of calls to the upstream APIs (identity, chat, KYC), retries included, in seconds.',
    labelNames: ['operation', 'outcome'] as const,
    buckets: [...(options.buckets ?? UPSTREAM_BUCKETS)],
    registers,
  });
  const upstreamErrors = new Counter({ name: `${p}_upstream_errors_total`, help: 'Upstream calls that failed or were refused, by error code.', labelNames: ['operation', 'code'] as const, registers });
  const lookups = new Counter({ name: `${p}_cache_lookups_total`, help: 'Session lookups in the verification cache.', labelNames: ['result'] as const, registers });
  const verified = new Counter({ name: `${p}_sessions_verified_total`, help: 'Sessions verified at the upstream (cache misses answered).', registers });
  const refreshed = new Counter({ name: `${p}_sessions_refreshed_total`, help: 'Active sessions re-verified ahead of the upstream inactivity timeout.', registers });
  const ended = new Counter({ name: `${p}_sessions_ended_total`, help: 'Sessions the upstream answered as expired or invalid.', labelNames: ['reason'] as const, registers });
  const stale = new Counter({ name: `${p}_stale_served_total`, help: 'Requests served from a stale verification while the upstream was failing.', registers });
  const logins = new Counter({ name: `${p}_logins_total`, help: 'Login attempts through idgate, by outcome.', labelNames: ['outcome'] as const, registers });
  const throttled = new Counter({ name: `${p}_login_throttled_total`, help: 'Logins refused by the login limiter, by the counter that refused (email includes the upstream lockout).', labelNames: ['reason'] as const, registers });
  const logouts = new Counter({ name: `${p}_logouts_total`, help: 'Logouts through idgate.', registers });
  const storeErrors = new Counter({ name: `${p}_store_errors_total`, help: 'Failed calls to the shared cache store.', labelNames: ['operation'] as const, registers });

  if (gate) {
    new Gauge({
      name: `${p}_cache_entries`,
      help: 'Entries in the in-process verification cache, by kind.',
      labelNames: ['kind'] as const,
      registers,
      collect() {
        for (const [kind, n] of Object.entries(gate.verifier.size())) this.set({ kind }, n);
      },
    });
    new Gauge({
      name: `${p}_upstream_circuit_state`,
      help: 'State of the identity upstream circuit breaker: 1 for the current state, 0 for the others.',
      labelNames: ['state'] as const,
      registers,
      collect() {
        const current = gate.upstream.circuit();
        for (const state of CIRCUIT_STATES) this.set({ state }, state === current ? 1 : 0);
      },
    });
  }

  return {
    onEvent(event) {
      switch (event.type) {
        case 'upstream-call':
          duration.observe({ operation: event.operation, outcome: event.outcome }, event.seconds);
          if (event.outcome !== 'ok') upstreamErrors.inc({ operation: event.operation, code: event.code ?? 'UNKNOWN' });
          return;
        case 'cache-hit':
          return lookups.inc({ result: 'hit' });
        case 'cache-miss':
          return lookups.inc({ result: 'miss' });
        case 'verified':
          return verified.inc();
        case 'refreshed':
          return refreshed.inc();
        case 'expired':
          return ended.inc({ reason: event.reason });
        case 'stale-served':
          return stale.inc();
        case 'login':
          return logins.inc({ outcome: 'success' });
        case 'login-failed':
          return logins.inc({ outcome: 'failed' });
        case 'login-throttled':
          logins.inc({ outcome: 'throttled' });
          return throttled.inc({ reason: event.reason });
        case 'logout':
          return logouts.inc();
        case 'store-error':
          return storeErrors.inc({ operation: event.operation });
        default:
          return;
      }
    },
  };
}
