import { describe, expect, it } from 'vitest';
import { createIdgate } from './gate.js';
import { ConfigError } from './errors.js';
import { exposeOnPrototype, mountedFirst, requestTags, requiredRule } from './kit.js';
import { ANONYMOUS } from './verifier.js';
import type { IdentityRequest } from './request.js';

const gate = createIdgate({ upstreamUrl: 'http://127.0.0.1:1', apiKey: 'DEV_' + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4', secret: 'kit-test-secret-0123456789abcdef', protect: ['/members/*'] });
const api = (url: string): IdentityRequest => ({ method: 'GET', url, headers: { accept: 'application/json' }, ip: '127.0.0.1', protocol: 'http' });

describe('decide(state, req, rule): the rule says what it means', () => {
  it('no rule: the protect option alone decides', () => {
    expect(gate.decide(ANONYMOUS, api('/public')).kind).toBe('next');
    expect(gate.decide(ANONYMOUS, api('/members/x'))).toMatchObject({ kind: 'reject', statusCode: 401 });
  });
  it('{ required: false } does not require (the old trap: `{}` meant required), and cannot lift protect', () => {
    expect(gate.decide(ANONYMOUS, api('/public'), { required: false }).kind).toBe('next');
    expect(gate.decide(ANONYMOUS, api('/members/x'), { required: false })).toMatchObject({ kind: 'reject', statusCode: 401 });
  });
  it('{ required: true } requires; requiredRule(options) is that plus where', () => {
    expect(gate.decide(ANONYMOUS, api('/public'), { required: true })).toMatchObject({ kind: 'reject', statusCode: 401 });
    const where = () => false;
    expect(requiredRule({ where })).toEqual({ required: true, where });
    expect(requiredRule()).toEqual({ required: true, where: undefined });
  });
});

describe('the mounted-first guard', () => {
  it('requestTags: a request the middleware never saw throws one ConfigError naming the handler and the mount', () => {
    const tags = requestTags<object, { n: number }>('idgate.test.kit', 'app.use(identityMiddleware()) mounted');
    const req = {};
    expect(() => tags.get(req, 'loginHandler()')).toThrow(ConfigError);
    expect(() => tags.get(req, 'loginHandler()')).toThrow('idgate: loginHandler() needs app.use(identityMiddleware()) mounted before it');
    tags.set(req, { n: 1 });
    expect(tags.get(req, 'loginHandler()')).toEqual({ n: 1 });
    // One registered symbol per key, shared by every copy of the module (ESM and CJS builds).
    expect(requestTags<object, { n: number }>('idgate.test.kit', 'x').get(req, 'y')).toEqual({ n: 1 });
  });
  it('mountedFirst has the stable CONFIG_INVALID code', () => {
    expect(mountedFirst('chatProxy()', 'x')).toMatchObject({ code: 'CONFIG_INVALID' });
  });
});

describe('web rendering (runtime-neutral)', () => {
  it('toResponse renders a redirect and a rejection with headers and every Set-Cookie', async () => {
    const { toResponse } = await import('./kit.js');
    const redirect = toResponse({ kind: 'redirect', statusCode: 303, location: '/login?returnTo=%2Fa', headers: [['Cache-Control', 'no-store'], ['Vary', 'Cookie']], setCookies: ['identityId=; Max-Age=0', 'other=1'] });
    expect(redirect.status).toBe(303);
    expect(redirect.headers.get('location')).toBe('/login?returnTo=%2Fa');
    expect(redirect.headers.get('vary')).toBe('Cookie');
    expect(redirect.headers.getSetCookie()).toEqual(['identityId=; Max-Age=0', 'other=1']);
    const reject = toResponse({ kind: 'reject', statusCode: 401, body: { error: 'UNAUTHENTICATED' }, headers: [], setCookies: [] });
    expect(reject.status).toBe(401);
    expect(reject.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await reject.json()).toEqual({ error: 'UNAUTHENTICATED' });
  });
  it('webHeaderTarget: a later decision about the same cookie replaces the earlier one; Vary is merged', async () => {
    const { webHeaderTarget } = await import('./kit.js');
    const { applyHeaders } = await import('./decision.js');
    const headers = new Headers([['Vary', 'Accept']]);
    headers.append('Set-Cookie', 'theme=dark');
    const target = webHeaderTarget(headers);
    applyHeaders(target, { kind: 'next', identity: null, status: 'expired', headers: [['Vary', 'Cookie']], setCookies: ['identityId=; Max-Age=0'] });
    applyHeaders(target, { kind: 'respond', statusCode: 200, body: {}, headers: [['Vary', 'Cookie']], setCookies: ['identityId=new'] });
    expect(headers.getSetCookie()).toEqual(['theme=dark', 'identityId=new']);
    expect(headers.get('vary')).toBe('Accept, Cookie');
  });
  it('streamResponse pulls on demand and a cancel aborts the endpoint and closes its iterator', async () => {
    const { streamResponse } = await import('./kit.js');
    let produced = 0;
    let closed = false;
    async function* events() {
      try {
        for (;;) {
          produced++;
          yield `data: ${produced}\n\n`;
        }
      } finally {
        closed = true;
      }
    }
    const aborter = new AbortController();
    const res = streamResponse({ kind: 'stream', statusCode: 200, headers: [['Content-Type', 'text/event-stream']], body: events() }, aborter);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('data: 1\n\n');
    expect(produced).toBeLessThanOrEqual(2); // backpressure: nothing runs ahead of the reader
    await reader.cancel();
    expect(aborter.signal.aborted).toBe(true);
    expect(closed).toBe(true);
  });
  it('readBody caps a web ReadableStream body like a Node one (declared and actual length)', async () => {
    const { readBody, webBody } = await import('./body.js');
    const ok = webBody(new Request('http://x/', { method: 'POST', body: 'é'.repeat(10) }))!;
    expect(await readBody(ok, 100)).toBe('é'.repeat(10));
    await expect(readBody(webBody(new Request('http://x/', { method: 'POST', body: 'x'.repeat(101) }))!, 100)).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    const undeclared = new ReadableStream<Uint8Array>({ start(c) { c.enqueue(new Uint8Array(60)); c.enqueue(new Uint8Array(60)); c.close(); } });
    await expect(readBody(undeclared, 100)).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });
});

describe('runtimeClientIp', () => {
  it('reads the address where Node (@hono/node-server), Bun and Deno put it, and nothing from headers', async () => {
    const { runtimeClientIp } = await import('./kit.js');
    const request = new Request('http://x/', { headers: { 'x-forwarded-for': '6.6.6.6' } });
    expect(runtimeClientIp({ incoming: { socket: { remoteAddress: '10.0.0.1' } } }, request)).toBe('10.0.0.1');
    expect(runtimeClientIp({ server: { incoming: { socket: { remoteAddress: '10.0.0.2' } } } }, request)).toBe('10.0.0.2');
    expect(runtimeClientIp({ requestIP: (r: Request) => (r === request ? { address: '10.0.0.3' } : null) }, request)).toBe('10.0.0.3');
    expect(runtimeClientIp({ remoteAddr: { hostname: '10.0.0.4' } }, request)).toBe('10.0.0.4');
    expect(runtimeClientIp(undefined, request)).toBeUndefined();
  });
});

describe('exposeOnPrototype', () => {
  it('reads through the getter, installs once per prototype, and an own assignment wins for that object only', () => {
    const state = new WeakMap<object, string>();
    const proto = {};
    let installs = 0;
    exposeOnPrototype<object>(proto, { who: (o) => (installs++, state.get(o)) });
    exposeOnPrototype<object>(proto, { who: () => 'second install' });
    const a = Object.create(proto) as { who?: string };
    const b = Object.create(proto) as { who?: string };
    state.set(a, 'ann').set(b, 'bob');
    expect([a.who, b.who]).toEqual(['ann', 'bob']);
    expect(installs).toBe(2);
    a.who = 'stub';
    expect([a.who, b.who, Object.keys(a), Object.keys(b)]).toEqual(['stub', 'bob', ['who'], []]);
  });
});
