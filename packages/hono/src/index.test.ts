import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { Hono } from 'hono';
import { setCookie } from 'hono/cookie';
import { HTTPException } from 'hono/http-exception';
import { streamText } from 'hono/streaming';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startMockUpstream, MOCK_API_KEY, type MockUpstream } from '@idgate/mock-upstream';
import { createIdgate, identityMiddleware, loginHandler, requireIdentity, type IdgateEnv } from './index.js';

describe('@idgate/hono', () => {
  let mock: MockUpstream;
  const servers: Server[] = [];
  const listen = async (app: Hono<IdgateEnv>) => {
    const server = await new Promise<Server>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server));
    });
    servers.push(server);
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  const options = () => ({ upstreamUrl: mock.url, apiKey: MOCK_API_KEY, secret: 'hono-unit-test-secret-0123456789ab' });
  const signIn = async (url: string) => {
    const res = await fetch(`${url}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'demo@example.com', password: 'demo-password' }) });
    expect(res.status).toBe(200);
    return res.headers.getSetCookie()[0]!.split(';')[0]!;
  };
  beforeAll(async () => {
    mock = await startMockUpstream({ port: 0 });
  });
  afterAll(async () => {
    for (const s of servers) s.closeAllConnections(), s.close();
    await mock.close();
  });

  it('login reads a body a middleware already read through Hono (c.req.json())', async () => {
    const app = new Hono<IdgateEnv>();
    const seen: unknown[] = [];
    app.use(async (c, next) => {
      if (c.req.method === 'POST') seen.push(await c.req.json());
      await next();
    });
    app.use(identityMiddleware(options()));
    app.post('/login', loginHandler());
    const url = await listen(app);
    expect(await signIn(url)).toMatch(/^identityId=[A-Za-z0-9]{32}\.[0-9a-z]+\.[\w-]{22}$/);
    expect(seen).toEqual([{ email: 'demo@example.com', password: 'demo-password' }]);
  });

  it("idgate's headers reach a response whose headers are immutable (Response.redirect), and the app's own cookie stays", async () => {
    const app = new Hono<IdgateEnv>();
    app.use(identityMiddleware(options()));
    app.post('/login', loginHandler());
    app.get('/go', requireIdentity(), () => Response.redirect('http://127.0.0.1/elsewhere', 302));
    app.get('/own', requireIdentity(), (c) => c.json({ ok: true }, 200, { 'Set-Cookie': 'theme=dark; Path=/', Vary: 'Accept' }));
    const url = await listen(app);
    const cookie = await signIn(url);
    const go = await fetch(`${url}/go`, { headers: { cookie }, redirect: 'manual' });
    expect(go.status).toBe(302);
    expect(go.headers.get('cache-control')).toBe('private, no-store');
    expect(go.headers.get('vary')).toBe('Cookie');
    const own = await fetch(`${url}/own`, { headers: { cookie } });
    expect(own.headers.getSetCookie()).toEqual(['theme=dark; Path=/']);
    expect(own.headers.get('vary')).toBe('Accept, Cookie');
  });

  it("a handler before the middleware fails with the mounted-first ConfigError, through Hono's onError", async () => {
    const app = new Hono<IdgateEnv>();
    const errors: unknown[] = [];
    app.onError((err, c) => (errors.push(err), c.text('error', 500)));
    app.get('/x', requireIdentity(), (c) => c.text('never'));
    const url = await listen(app);
    expect((await fetch(`${url}/x`)).status).toBe(500);
    expect(errors[0]).toMatchObject({ code: 'CONFIG_INVALID', message: 'idgate: requireIdentity() needs app.use(identityMiddleware()) mounted before it' });
  });

  it("on @hono/node-server, idgate's headers leave Hono's light response light (its fast path)", async () => {
    // A guard for the benchmark, not for security: the middleware writes its
    // headers after the handler, which on @hono/node-server is cheap only while
    // a light response's `headers` are the live ones it is sent with (no real
    // Response built). If an upgrade of @hono/node-server fails this, re-measure
    // with `node bench/ab.mjs hono lru-nostore idgate` (bench/PROFILE.md, Hono).
    const app = new Hono<IdgateEnv>();
    const light: boolean[] = [];
    app.use(async (c, next) => {
      await next();
      light.push(Object.getOwnPropertySymbols(c.res).some((s) => s.description === 'cache'));
    });
    app.use(identityMiddleware(options()));
    app.post('/login', loginHandler());
    app.get('/me', requireIdentity(), (c) => c.json({ ok: true }));
    const url = await listen(app);
    const cookie = await signIn(url);
    const me = await fetch(`${url}/me`, { headers: { cookie } });
    expect(me.headers.get('cache-control')).toBe('private, no-store');
    expect(me.headers.get('vary')).toBe('Cookie');
    expect(light).toEqual([true, true]);
  });

  describe("idgate's headers reach every kind of response, on the hit path and with a renewed cookie", () => {
    // What a case's response must carry besides idgate's own headers.
    interface Case {
      name: string;
      path: string;
      method?: 'GET' | 'HEAD';
      status?: number;
      body?: string;
      vary?: string[];
      cookies?: string[];
    }
    const OWN_COOKIE = 'theme=dark; Path=/';
    const text = (body: string) => new TextEncoder().encode(body);
    const cases: Case[] = [
      { name: 'c.json', path: '/json', body: '{"ok":true}' },
      { name: 'c.json, HEAD', path: '/json', method: 'HEAD', body: '' },
      { name: 'c.json after requireIdentity()', path: '/required', body: '{"ok":true}' },
      { name: 'c.text', path: '/text', body: 'ok' },
      { name: 'c.body with a status', path: '/body', status: 201, body: 'made' },
      { name: 'c.html', path: '/html', body: '<p>ok</p>' },
      { name: 'c.redirect', path: '/redirect', status: 302 },
      { name: 'a raw new Response()', path: '/raw', body: 'raw' },
      { name: 'a raw new Response(null, 204)', path: '/raw-empty', status: 204, body: '' },
      { name: 'a raw Response over a ReadableStream', path: '/raw-stream', body: 'ab' },
      { name: "Hono's streamText", path: '/stream', body: 'ab' },
      { name: 'a Response from fetch (immutable headers, its own Vary and Cache-Control)', path: '/fetched', body: 'from elsewhere', vary: ['Accept-Encoding'] },
      { name: 'a handler that throws (onError answers with c.text)', path: '/throws', status: 500, body: 'error' },
      { name: 'a thrown HTTPException whose own Response onError returns as is', path: '/teapot', status: 418, body: 'teapot' },
      { name: 'a handler that throws, default error handler', path: '/b/throws', status: 500 },
      { name: 'notFound, default handler', path: '/nowhere', status: 404 },
      { name: 'notFound answering a raw Response', path: '/b/nowhere', status: 404, body: 'nothing here' },
      { name: "a route's own Vary (c.header)", path: '/vary', vary: ['Origin'] },
      { name: "a raw Response's own Vary", path: '/raw-vary', vary: ['Origin'] },
      { name: "a route's own Cache-Control (idgate's no-store wins)", path: '/cache' },
      { name: "a raw Response's own Cache-Control", path: '/raw-cache' },
      { name: "a route's own cookie (setCookie)", path: '/cookie', cookies: [OWN_COOKIE] },
      { name: "a route's own cookie in c.json's headers", path: '/cookie-arg', cookies: [OWN_COOKIE] },
      { name: "a raw Response's own cookie", path: '/raw-cookie', cookies: [OWN_COOKIE] },
      { name: 'a later middleware that replaces c.res', path: '/replaced', body: 'replaced' },
    ];

    let url: string;
    let elsewhere: Server;
    beforeAll(async () => {
      // Another origin for the fetched Response: its headers are immutable, and it has a Vary and a Cache-Control of its own.
      elsewhere = createServer((_req, res) => res.writeHead(200, { vary: 'Accept-Encoding', 'cache-control': 'public, max-age=60' }).end('from elsewhere'));
      await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
      const fetchUrl = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/`;
      // renewInterval: 1 s, so a session is renewed on its first request a second after login.
      const gate = createIdgate({ ...options(), cookie: { renewInterval: 1 } });
      const app = new Hono<IdgateEnv>();
      app.onError((err, c) => (err instanceof HTTPException ? err.getResponse() : c.text('error', 500)));
      app.use(identityMiddleware(gate));
      app.post('/login', loginHandler());
      app.get('/json', (c) => c.json({ ok: true }));
      app.get('/required', requireIdentity(), (c) => c.json({ ok: true }));
      app.get('/text', (c) => c.text('ok'));
      app.get('/body', (c) => c.body('made', 201));
      app.get('/html', (c) => c.html('<p>ok</p>'));
      app.get('/redirect', (c) => c.redirect('/json'));
      app.get('/raw', () => new Response('raw', { headers: { 'content-type': 'text/plain' } }));
      app.get('/raw-empty', () => new Response(null, { status: 204 }));
      app.get('/raw-stream', () => new Response(new ReadableStream({ start(s) { s.enqueue(text('a')); s.enqueue(text('b')); s.close(); } })));
      app.get('/stream', (c) => streamText(c, async (s) => { await s.write('a'); await s.write('b'); }));
      app.get('/fetched', () => fetch(fetchUrl));
      app.get('/throws', () => { throw new Error('boom'); });
      app.get('/teapot', () => { throw new HTTPException(418, { res: new Response('teapot', { status: 418 }) }); });
      app.get('/vary', (c) => { c.header('Vary', 'Origin'); return c.json({}); });
      app.get('/raw-vary', () => new Response('ok', { headers: { Vary: 'Origin' } }));
      app.get('/cache', (c) => { c.header('Cache-Control', 'public, max-age=60'); return c.json({}); });
      app.get('/raw-cache', () => new Response('ok', { headers: { 'Cache-Control': 'public, max-age=60' } }));
      app.get('/cookie', (c) => { setCookie(c, 'theme', 'dark', { path: '/' }); return c.json({}); });
      app.get('/cookie-arg', (c) => c.json({}, 200, { 'Set-Cookie': OWN_COOKIE }));
      app.get('/raw-cookie', () => new Response('ok', { headers: { 'Set-Cookie': OWN_COOKIE } }));
      app.get('/replaced', async (c, next) => { await next(); c.res = new Response('replaced', c.res); }, (c) => c.text('original'));
      // A sub-app with Hono's default error handler and a notFound that answers a raw Response.
      const b = new Hono<IdgateEnv>();
      b.notFound(() => new Response('nothing here', { status: 404 }));
      b.use(identityMiddleware(gate));
      b.get('/b/throws', () => { throw new Error('boom'); });
      const root = new Hono<IdgateEnv>();
      root.all('/b/*', (c) => b.fetch(c.req.raw, c.env));
      root.route('/', app);
      url = await listen(root);
    });
    afterAll(() => {
      elsewhere.closeAllConnections();
      elsewhere.close();
    });

    const call = async (c: Case, cookie: string) => {
      const res = await fetch(`${url}${c.path}`, { method: c.method ?? 'GET', headers: { cookie }, redirect: 'manual' });
      const body = await res.text();
      expect(res.status, c.name).toBe(c.status ?? 200);
      if (c.body !== undefined) expect(body, c.name).toBe(c.body);
      expect(res.headers.get('cache-control'), c.name).toBe('private, no-store');
      const vary = (res.headers.get('vary') ?? '').split(',').map((v) => v.trim());
      expect(vary.sort(), c.name).toEqual(['Cookie', ...(c.vary ?? [])].sort());
      return res.headers.getSetCookie();
    };

    it('every response carries Cache-Control and Vary, merged with its own; a renewal adds the cookie beside its own', async () => {
      vi.spyOn(console, 'error').mockImplementation(() => {}); // Hono's default error handler prints the error
      const sessions: string[] = [];
      // Sign in right before the first request of each case: that request is inside the renewal interval.
      for (const c of cases) {
        const cookie = await signIn(url);
        sessions.push(cookie);
        expect(await call(c, cookie), c.name).toEqual(c.cookies ?? []);
      }
      await new Promise((r) => setTimeout(r, 1_100));
      for (const [i, c] of cases.entries()) {
        const cookies = await call(c, sessions[i]!);
        const renewed = cookies.filter((v) => v.startsWith('identityId='));
        expect(renewed, c.name).toHaveLength(1);
        expect(renewed[0], c.name).toMatch(/^identityId=[A-Za-z0-9]{32}\.[0-9a-z]+\.[\w-]{22}; .*Max-Age=\d+/);
        expect(cookies.filter((v) => !v.startsWith('identityId=')), c.name).toEqual(c.cookies ?? []);
      }
      vi.restoreAllMocks();
    });
  });
});
