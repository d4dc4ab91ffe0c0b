import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockUpstream, MOCK_API_KEY, type MockUpstream } from '@idgate/mock-upstream';
import { identityMiddleware, loginHandler, requireIdentity, type IdgateEnv } from './index.js';

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
});
