// @idgate/telemetry over a real app: an Express app with chat and KYC, against
// the real mock upstream over sockets, feeding a real prom-client Registry and
// an OpenTelemetry SDK tracer with the in-memory exporter. The scrape and the
// finished spans are asserted, and neither may carry a secret, an identityId,
// an e-mail or a key anywhere (names, labels, attributes).
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Registry } from 'prom-client';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatProxy, createIdgate, identityMiddleware, kycSessionHandler, loginHandler, logoutHandler, requireIdentity, type Idgate } from '@idgate/express';
import type { IdgateEvent } from '@idgate/core';
import { createChatForwarder } from '@idgate/chat';
import { createKycClient } from '@idgate/kyc';
import { MOCK_CHAT_API_KEY, MOCK_KYC_APP_ID, MOCK_KYC_APP_SECRET, MOCK_KYC_FORM_ID, MOCK_KYC_TENANT_ID } from '@idgate/mock-upstream';
import { prometheusMetrics } from '@idgate/telemetry/prometheus';
import { openTelemetryTracing } from '@idgate/telemetry/opentelemetry';
import { API_KEY, TEST_SECRET, optionsFor, startMockUpstream, upstreamLogin, type MockUpstream } from './harness.js';

const EMAIL = 'demo@example.com';
const PASSWORD = 'demo-password';

let mock: MockUpstream;
let gate: Idgate;
let url: string;
let close: () => Promise<void>;
const registry = new Registry();
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const events: IdgateEvent[] = [];
const cookies: string[] = [];

const post = (path: string, body: unknown, cookie?: string) =>
  fetch(`${url}${path}`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) }, body: JSON.stringify(body) });
const get = (path: string, cookie?: string) => fetch(`${url}${path}`, { redirect: 'manual', headers: cookie ? { cookie } : {} });
async function login(): Promise<string> {
  const res = await post('/login', { email: EMAIL, password: PASSWORD });
  expect(res.status).toBe(200);
  const cookie = res.headers.getSetCookie()[0]!.split(';')[0]!;
  cookies.push(cookie);
  return cookie;
}

beforeAll(async () => {
  mock = await startMockUpstream({ port: 0 });
  const tracing = openTelemetryTracing({ tracer: provider.getTracer('idgate-test') });
  // One listener for idgate, chat and KYC, as the README shows.
  let metrics: { onEvent(event: IdgateEvent): void } | undefined;
  const onEvent = (event: IdgateEvent) => {
    events.push(event);
    metrics?.onEvent(event);
    tracing.onEvent(event);
  };
  gate = createIdgate(optionsFor(mock, { onEvent, loginThrottle: false, upstream: { retries: 0 } }));
  metrics = prometheusMetrics({ registry, gate });
  const chat = createChatForwarder({ baseUrl: mock.url, apiKey: MOCK_CHAT_API_KEY, agentId: 7, contact: { chatbotId: 7 }, onEvent });
  const kyc = createKycClient({ baseUrl: mock.url, appId: MOCK_KYC_APP_ID, appSecret: MOCK_KYC_APP_SECRET, tenantId: MOCK_KYC_TENANT_ID, formId: MOCK_KYC_FORM_ID, onEvent });
  const app = express();
  app.use(identityMiddleware(gate));
  app.get('/account', requireIdentity(), (req, res) => res.json({ identity: req.identity }));
  app.post('/login', loginHandler());
  app.post('/logout', logoutHandler());
  app.post('/chat', requireIdentity(), chatProxy(chat));
  app.post('/kyc/session', requireIdentity(), kycSessionHandler(kyc));
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); });

  // The flow: a refused login, a login, verifications (a slow one), chat, KYC,
  // a failing verification, logout.
  expect((await post('/login', { email: EMAIL, password: 'wrong-password' })).status).toBe(401);
  const cookie = await login();
  // Sessions idgate has not seen yet: their first request is a verification.
  const slow = `identityId=${await upstreamLogin(mock)}`;
  const failing = `identityId=${await upstreamLogin(mock)}`;
  cookies.push(slow, failing);
  mock.fault({ route: 'profile', latencyMs: 150, times: 1 });
  expect((await get('/account', slow)).status).toBe(200);
  expect((await get('/account', slow)).status).toBe(200);
  expect((await get('/account', cookie)).status).toBe(200);
  expect((await post('/chat', { message: 'hello', stream: false }, cookie)).status).toBe(200);
  expect((await post('/kyc/session', {}, cookie)).status).toBe(200);
  await login();
  mock.fault({ route: 'profile', status: 500, times: 5 });
  expect((await get('/account', failing)).status).toBeGreaterThanOrEqual(500);
  mock.clearFaults();
  expect((await post('/logout', {}, cookie)).status).toBeLessThan(400);
});

afterAll(async () => {
  await close?.();
  await mock?.close();
  await provider.shutdown();
});

describe('prom-client integration', () => {
  it('a scrape of the given Registry has the upstream histogram in seconds, counters named *_total, and the gauges', async () => {
    const text = await registry.metrics();
    expect(text).toContain('# TYPE idgate_upstream_request_duration_seconds histogram');
    const count = (labels: string) => Number(text.match(new RegExp(`^idgate_upstream_request_duration_seconds_count\\{${labels}\\} (\\d+)$`, 'm'))?.[1] ?? 0);
    expect(count('operation="login",outcome="ok"')).toBe(2);
    expect(count('operation="login",outcome="rejected"')).toBe(1);
    expect(count('operation="verify",outcome="ok"')).toBeGreaterThanOrEqual(1);
    expect(count('operation="verify",outcome="error"')).toBeGreaterThanOrEqual(1);
    expect(count('operation="chat",outcome="ok"')).toBe(1);
    expect(count('operation="chat-contacts",outcome="ok"')).toBe(1);
    expect(count('operation="kyc",outcome="ok"')).toBe(1);
    expect(count('operation="logout",outcome="ok"')).toBe(1);
    // Seconds, not milliseconds: the 150 ms verification is 0.15 and more, and the whole run far under a minute.
    const verifySum = Number(text.match(/^idgate_upstream_request_duration_seconds_sum\{operation="verify",outcome="ok"\} ([\d.e-]+)$/m)?.[1]);
    expect(verifySum).toBeGreaterThanOrEqual(0.15);
    expect(verifySum).toBeLessThan(60);
    expect(text).toMatch(/^idgate_upstream_errors_total\{operation="login",code="INVALID_CREDENTIALS"\} 1$/m);
    expect(text).toMatch(/^idgate_upstream_errors_total\{operation="verify",code="UPSTREAM_[A-Z_]+"\} [1-9]/m);
    expect(text).toMatch(/^idgate_logins_total\{outcome="success"\} 2$/m);
    expect(text).toMatch(/^idgate_logins_total\{outcome="failed"\} 1$/m);
    expect(text).toMatch(/^idgate_logouts_total 1$/m);
    expect(text).toMatch(/^idgate_cache_lookups_total\{result="hit"\} [1-9]/m);
    // Gauges read the gate at scrape time.
    expect(text).toMatch(/^idgate_cache_entries\{kind="positive"\} \d+$/m);
    expect(text).toMatch(/^idgate_upstream_circuit_state\{state="closed"\} 1$/m);
    expect(text).toMatch(/^idgate_upstream_circuit_state\{state="open"\} 0$/m);
    // Prometheus conventions: every counter ends in _total, no unit but seconds.
    for (const m of await registry.getMetricsAsJSON()) {
      if (String(m.type) === 'counter') expect(m.name).toMatch(/_total$/);
      expect(m.name).not.toMatch(/_ms\b|milliseconds/);
    }
  });

  it('the circuit gauge follows the breaker: open after consecutive outages', async () => {
    const registry2 = new Registry();
    const failing = createIdgate(optionsFor(mock, { breaker: { threshold: 1, cooldown: 60_000 }, upstream: { retries: 0 } }));
    prometheusMetrics({ registry: registry2, gate: failing, prefix: 'app_idgate' });
    mock.fault({ route: 'profile', status: 503, times: 1 });
    const signed = cookies[0]!.slice('identityId='.length);
    await Promise.resolve(failing.authenticate({ headers: { cookie: `identityId=${signed}` } })).catch(() => {});
    mock.clearFaults();
    const text = await registry2.metrics();
    expect(text).toMatch(/^app_idgate_upstream_circuit_state\{state="open"\} 1$/m);
    expect(text).toMatch(/^app_idgate_upstream_circuit_state\{state="closed"\} 0$/m);
  });
});

describe('OpenTelemetry integration', () => {
  it('one CLIENT span per upstream call with its real duration; failures are ERROR, refusals are not', () => {
    const spans = exporter.getFinishedSpans();
    const names = spans.map((s) => s.name);
    for (const op of ['login', 'verify', 'chat', 'chat-contacts', 'kyc', 'logout']) expect(names).toContain(`idgate ${op}`);
    const calls = events.filter((e) => e.type === 'upstream-call');
    expect(spans).toHaveLength(calls.length);
    for (const span of spans) {
      expect(span.kind).toBe(SpanKind.CLIENT);
      expect(Object.keys(span.attributes).sort()).toEqual(expect.arrayContaining(['idgate.operation', 'idgate.outcome', 'idgate.upstream']));
    }
    const slow = spans.filter((s) => s.name === 'idgate verify' && s.attributes['idgate.outcome'] === 'ok');
    const longest = Math.max(...slow.map((s) => s.duration[0] + s.duration[1] / 1e9));
    expect(longest).toBeGreaterThanOrEqual(0.15);
    expect(longest).toBeLessThan(60);
    for (const span of spans) expect(span.duration[0]).toBeLessThan(60);
    const failed = spans.find((s) => s.name === 'idgate verify' && s.attributes['idgate.outcome'] === 'error')!;
    expect(failed.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed.attributes['error.type']).toMatch(/^UPSTREAM_/);
    const refused = spans.find((s) => s.name === 'idgate login' && s.attributes['idgate.outcome'] === 'rejected')!;
    expect(refused.status.code).toBe(SpanStatusCode.UNSET);
    expect(refused.attributes['error.type']).toBe('INVALID_CREDENTIALS');
    expect(spans.find((s) => s.name === 'idgate kyc')!.attributes['idgate.upstream']).toBe('azakaw');
  });

  it('without a registered SDK the default tracer is a no-op that never throws', () => {
    const tracing = openTelemetryTracing();
    expect(() => tracing.onEvent({ type: 'upstream-call', operation: 'verify', startedAt: Date.now(), seconds: 0.01, outcome: 'ok' })).not.toThrow();
  });
});

describe('no secret, identityId, e-mail or key in a metric or a span', () => {
  it('checks the whole scrape and every span name and attribute', async () => {
    const text = await registry.metrics();
    const spans = JSON.stringify(exporter.getFinishedSpans().map((s) => ({ name: s.name, attributes: s.attributes, events: s.events, status: s.status })));
    const secrets = [
      PASSWORD, 'wrong-password', EMAIL, API_KEY, TEST_SECRET, MOCK_CHAT_API_KEY, MOCK_KYC_APP_SECRET, 'c_demo',
      ...mock.sessions().map((s) => s.identityId),
      ...cookies.map((c) => c.slice('identityId='.length)),
    ];
    expect(mock.sessions().length).toBeGreaterThanOrEqual(2);
    for (const secret of secrets) {
      expect(text).not.toContain(secret);
      expect(spans).not.toContain(secret);
    }
    // Label values come from closed sets: operations, outcomes, codes, kinds, states.
    for (const m of await registry.getMetricsAsJSON()) {
      for (const v of m.values) for (const value of Object.values(v.labels)) expect(String(value)).toMatch(/^([a-z-]+|[A-Z_]+|[A-Z_]+_[A-Z_]+|\+Inf|[\d.e-]+)$/);
    }
  });
});
