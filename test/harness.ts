import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { startMockUpstream, type MockUpstream } from '@idgate/mock-upstream';
import { sessionKeys, signSession, type IdgateEvent, type IdgateOptions, type Logger } from '@idgate/core/adapter';
import { Registry } from 'prom-client';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { prometheusMetrics } from '@idgate/telemetry/prometheus';
import { openTelemetryTracing } from '@idgate/telemetry/opentelemetry';

/** A valid demo API key (seed 001's format). */
export const API_KEY = 'DEV_' + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4';

/** A logger that keeps every line it is given, serialized, for secret scans. */
export function captureLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const write = (level: string) => (obj: object, msg?: string) => {
    lines.push(JSON.stringify({ level, ...obj, msg }));
  };
  return { lines, debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

/** The cookie-signing secret every test app gets unless a test passes its own. */
export const TEST_SECRET = 'idgate-test-secret-0123456789abcdef';

/** idgate options pointing at a mock, with short timeouts so fault tests end fast. */
export function optionsFor(mock: MockUpstream, extra: Partial<IdgateOptions> = {}): IdgateOptions {
  return {
    upstreamUrl: mock.url,
    apiKey: API_KEY,
    secret: TEST_SECRET,
    ...extra,
    upstream: { timeout: 400, totalTimeout: 1_500, retries: 2, backoffBase: 20, backoffMax: 100, retryAfterMax: 2_000, ...extra.upstream },
  };
}

/**
 * Sign in straight at the mock (as if an earlier request had) and return the
 * session cookie's value that idgate would have issued for it: the identityId
 * signed with `secret` (`rawOf` gives the identityId back).
 */
export async function upstreamLogin(mock: MockUpstream, email = 'demo@example.com', password = 'demo-password', secret = TEST_SECRET): Promise<string> {
  const res = await fetch(`${mock.url}/api/v1/customer/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
    body: JSON.stringify({ email, password, customerRealIp: '127.0.0.1' }),
  });
  const body = (await res.json()) as { identityId?: string };
  if (!body.identityId) throw new Error(`mock login failed: ${JSON.stringify(body)}`);
  return signSession(sessionKeys([secret]), body.identityId, Date.now());
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** A random well-formed (32 alphanumerics) identityId that no upstream issued. */
export const randomId = (): string => Array.from(randomBytes(32), (b) => ALNUM[b % 62]).join('');

/** The upstream identityId inside a session cookie value from `upstreamLogin`. */
export const rawOf = (value: string): string => value.slice(0, 32);

/** `Set-Cookie` values of a supertest response. */
export function setCookies(res: { headers: Record<string, unknown> }): string[] {
  const v = res.headers['set-cookie'];
  return Array.isArray(v) ? (v as string[]) : typeof v === 'string' ? [v] : [];
}

export { startMockUpstream, type MockUpstream };

/** A free TCP port on 127.0.0.1, for servers started as separate processes. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * @idgate/telemetry wired to a real prom-client Registry and an in-memory
 * OpenTelemetry exporter, for suites that scan what metrics and traces carry:
 * `output()` is the whole scrape plus every span's name, attributes, events
 * and status, as one string.
 */
export function telemetryCapture(): { onEvent(event: IdgateEvent): void; output(): Promise<string>; spans(): number } {
  const registry = new Registry();
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const metrics = prometheusMetrics({ registry });
  const tracing = openTelemetryTracing({ tracer: provider.getTracer('idgate-test') });
  return {
    onEvent(event) {
      metrics.onEvent(event);
      tracing.onEvent(event);
    },
    async output() {
      const spans = exporter.getFinishedSpans().map((s) => ({ name: s.name, attributes: s.attributes, events: s.events, status: s.status }));
      return `${await registry.metrics()}\n${JSON.stringify(spans)}`;
    },
    spans: () => exporter.getFinishedSpans().length,
  };
}
