import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockUpstream, MOCK_API_KEY, type MockUpstream } from '@idgate/mock-upstream';
import { identityMiddleware, loginHandler, requireIdentity } from './index.js';

describe('@idgate/koa', () => {
  let mock: MockUpstream;
  const servers: Server[] = [];
  const listen = async (app: Koa) => {
    const server = createServer(app.callback()).listen(0, '127.0.0.1');
    servers.push(server);
    await new Promise<void>((resolve) => server.once('listening', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  beforeAll(async () => {
    mock = await startMockUpstream({ port: 0 });
  });
  afterAll(async () => {
    for (const s of servers) s.closeAllConnections(), s.close();
    await mock.close();
  });

  it('login reads a body a parser already set on ctx.request.body', async () => {
    const app = new Koa();
    // What koa-bodyparser / @koa/bodyparser leave behind: the stream consumed, the object on ctx.request.body.
    app.use(async (ctx, next) => {
      for await (const _ of ctx.req);
      (ctx.request as { body?: unknown }).body = { email: 'demo@example.com', password: 'demo-password' };
      await next();
    });
    app.use(identityMiddleware({ upstreamUrl: mock.url, apiKey: MOCK_API_KEY }));
    app.use(loginHandler());
    const res = await fetch(await listen(app), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(200);
    expect(res.headers.getSetCookie()[0]).toMatch(/^identityId=[A-Za-z0-9]{32}\.[0-9a-z]+\.[\w-]{22};/);
  });

  it("sets ctx.identity beside ctx.state.identity, and errors go to Koa's error path", async () => {
    const app = new Koa();
    const seen: unknown[] = [];
    app.on('error', () => {});
    app.use(identityMiddleware({ upstreamUrl: mock.url, apiKey: MOCK_API_KEY }));
    app.use((ctx) => {
      seen.push([ctx.identity, ctx.identityStatus, ctx.state.identityStatus]);
      ctx.body = 'ok';
    });
    const url = await listen(app);
    await fetch(url);
    expect(seen).toEqual([[null, 'anonymous', 'anonymous']]);

    const bare = new Koa();
    bare.on('error', () => {});
    bare.use(requireIdentity());
    expect((await fetch(await listen(bare))).status).toBe(500);
  });

  it('ctx.identity reads ctx.state (an accessor, not a property added per request); an app may assign either', async () => {
    const app = new Koa();
    app.use(identityMiddleware({ upstreamUrl: mock.url, apiKey: MOCK_API_KEY }));
    const login = loginHandler();
    app.use((ctx, next) => (ctx.path === '/login' ? login(ctx, next) : next()));
    app.use((ctx) => {
      if (ctx.query.stub) ctx.identity = { id: 'stub', email: 'stub@example.com', attributes: {}, verifiedAt: new Date(0) };
      if (ctx.query.state) ctx.state.identity = { id: 'state', email: 'state@example.com', attributes: {}, verifiedAt: new Date(0) };
      ctx.body = { id: ctx.identity?.id ?? null, status: ctx.identityStatus, own: Object.keys(ctx).includes('identity') };
    });
    const url = await listen(app);
    const signedIn = await fetch(`${url}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'demo@example.com', password: 'demo-password' }) });
    const cookie = signedIn.headers.getSetCookie()[0]!.split(';')[0]!;
    expect(await (await fetch(url, { headers: { cookie } })).json()).toEqual({ id: 'c_demo', status: 'authenticated', own: false });
    expect(await (await fetch(`${url}/?state=1`)).json()).toEqual({ id: 'state', status: 'anonymous', own: false });
    expect(await (await fetch(`${url}/?stub=1`)).json()).toEqual({ id: 'stub', status: 'anonymous', own: true });
    // The next request is not affected by the last one's assignment.
    expect(await (await fetch(url)).json()).toEqual({ id: null, status: 'anonymous', own: false });
  });
});
