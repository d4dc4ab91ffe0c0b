import type { IdgateEvent, IdgateEventType } from './events.js';

const BUCKETS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

/**
 * A small in-process metrics sink for idgate events, with no dependency.
 * @deprecated Use `prometheusMetrics()` from `@idgate/telemetry/prometheus`
 * (metrics in your prom-client Registry: seconds, `_total` counters, cache and
 * circuit gauges) and `openTelemetryTracing()` from
 * `@idgate/telemetry/opentelemetry` (a span per upstream call). Kept working
 * for existing users; it will be removed in a future major version.
 */
export interface Metrics {
  /** Pass as the `onEvent` option (or call from your own listener). */
  onEvent(event: IdgateEvent): void;
  /** Counts per event type. */
  counters(): Readonly<Record<IdgateEventType, number>>;
  /** Logins refused by the login limiter, by which counter refused (`email` includes the upstream's E006). */
  throttled(): Readonly<Record<'email' | 'ip', number>>;
  /** Upstream verification latency: cumulative bucket counts, sum and count. */
  latency(): { buckets: ReadonlyArray<readonly [le: number, count: number]>; sum: number; count: number };
  /** Prometheus text exposition format. */
  prometheus(prefix?: string): string;
}

/**
 * Counters per event and a latency histogram of upstream verifications
 * (milliseconds), readable as an object or exported as Prometheus text.
 * @deprecated Use `@idgate/telemetry`: `prometheusMetrics({ registry, gate })`
 * from `@idgate/telemetry/prometheus` registers idgate's metrics (durations in
 * seconds, `_total` counters, cache and circuit gauges) in your prom-client
 * Registry, and `openTelemetryTracing()` from `@idgate/telemetry/opentelemetry`
 * records a span per upstream call. Both take the same `onEvent` events.
 * `createMetrics()` keeps working until a future major version.
 * @example
 * const metrics = createMetrics();
 * app.use(identityMiddleware({ onEvent: metrics.onEvent }));
 * app.get('/metrics', (_req, res) => res.type('text/plain').send(metrics.prometheus()));
 */
export function createMetrics(): Metrics {
  const counts: Record<string, number> = {};
  const buckets = new Array<number>(BUCKETS_MS.length).fill(0);
  let sum = 0;
  let count = 0;
  const throttled = { email: 0, ip: 0 };
  return {
    onEvent(event) {
      counts[event.type] = (counts[event.type] ?? 0) + 1;
      if (event.type === 'login-throttled') throttled[event.reason]++;
      if (event.type === 'verified' || event.type === 'refreshed') {
        sum += event.ms;
        count++;
        for (let i = 0; i < BUCKETS_MS.length; i++) if (event.ms <= BUCKETS_MS[i]!) buckets[i]!++;
      }
    },
    counters: () => ({ ...counts }) as Record<IdgateEventType, number>,
    throttled: () => ({ ...throttled }),
    latency: () => ({ buckets: BUCKETS_MS.map((le, i) => [le, buckets[i]!] as const), sum, count }),
    prometheus(prefix = 'idgate') {
      const lines = [`# HELP ${prefix}_events_total idgate events by type`, `# TYPE ${prefix}_events_total counter`];
      for (const [type, n] of Object.entries(counts)) lines.push(`${prefix}_events_total{type="${type}"} ${n}`);
      lines.push(`# HELP ${prefix}_login_throttled_total logins refused by the login limiter, by counter`, `# TYPE ${prefix}_login_throttled_total counter`);
      for (const [reason, n] of Object.entries(throttled)) lines.push(`${prefix}_login_throttled_total{reason="${reason}"} ${n}`);
      lines.push(`# HELP ${prefix}_upstream_verify_ms upstream verification latency`, `# TYPE ${prefix}_upstream_verify_ms histogram`);
      BUCKETS_MS.forEach((le, i) => lines.push(`${prefix}_upstream_verify_ms_bucket{le="${le}"} ${buckets[i]}`));
      lines.push(`${prefix}_upstream_verify_ms_bucket{le="+Inf"} ${count}`, `${prefix}_upstream_verify_ms_sum ${sum}`, `${prefix}_upstream_verify_ms_count ${count}`);
      return lines.join('\n') + '\n';
    },
  };
}
