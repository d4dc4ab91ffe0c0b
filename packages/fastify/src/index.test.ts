import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockUpstream, MOCK_API_KEY, type MockUpstream } from '@idgate/mock-upstream';
import { createIdgate, idgate, requireIdentity } from './index.js';

const FORM = 'application/x-www-form-urlencoded';
const credentials = 'email=demo%40example.com&password=demo-password';

describe('@idgate/fastify plugin', () => {
  let mock: MockUpstream;
  const apps: FastifyInstance[] = [];
  const build = async (register: (app: FastifyInstance) => Promise<void>) => {
    const app = Fastify();
    apps.push(app);
    await register(app);
    return app;
  };
  beforeAll(async () => {
    mock = await startMockUpstream({ port: 0 });
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await mock.close();
  });

  it("parses forms for idgate's handlers only: other routes keep Fastify's 415", async () => {
    const app = await build(async (app) => {
      await app.register(idgate, { upstreamUrl: mock.url, apiKey: MOCK_API_KEY });
      app.post('/login', app.idgate.loginHandler());
      app.post('/other', async (request) => ({ body: request.body }));
    });
    const other = await app.inject({ method: 'POST', url: '/other', headers: { 'content-type': FORM }, payload: 'a=1' });
    expect(other.statusCode).toBe(415);
    expect(other.json()).toMatchObject({ code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' });
    const login = await app.inject({ method: 'POST', url: '/login', headers: { 'content-type': FORM, host: 'localhost' }, payload: credentials });
    expect(login.statusCode).toBe(303);
    expect(login.headers['set-cookie']).toMatch(/^identityId=[A-Za-z0-9]{32}\.[0-9a-z]+\.[\w-]{22};/);
  });

  it("leaves the app's own form parser alone and reads the object it produces", async () => {
    const app = await build(async (app) => {
      app.addContentTypeParser(FORM, { parseAs: 'string' }, (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))));
      await app.register(idgate, { upstreamUrl: mock.url, apiKey: MOCK_API_KEY });
      app.post('/login', app.idgate.loginHandler());
      app.post('/other', async (request) => ({ body: request.body }));
    });
    const other = await app.inject({ method: 'POST', url: '/other', headers: { 'content-type': FORM }, payload: 'a=1' });
    expect(other.json()).toEqual({ body: { a: '1' } });
    const login = await app.inject({ method: 'POST', url: '/login', headers: { 'content-type': FORM, host: 'localhost' }, payload: credentials });
    expect(login.statusCode).toBe(303);
  });

  it('reads identity and identityStatus from the one per-request field, and lets an app assign its own', async () => {
    const seen: unknown[] = [];
    const app = await build(async (app) => {
      // Before the plugin's hook: the defaults a value decoration would have given.
      app.addHook('onRequest', async (request) => void seen.push([request.identity, request.identityStatus]));
      await app.register(idgate, { upstreamUrl: mock.url, apiKey: MOCK_API_KEY });
      app.post('/login', app.idgate.loginHandler());
      app.post('/logout', app.idgate.logoutHandler());
      app.get('/me', async (request) => ({ identity: request.identity, status: request.identityStatus }));
      app.get('/double', async (request) => {
        request.identity = { id: 'test-double' } as never;
        request.identityStatus = 'authenticated';
        return { identity: request.identity, status: request.identityStatus };
      });
    });
    const anonymous = await app.inject({ method: 'GET', url: '/me' });
    expect(anonymous.json()).toEqual({ identity: null, status: 'anonymous' });
    const login = await app.inject({ method: 'POST', url: '/login', headers: { 'content-type': FORM, host: 'localhost' }, payload: credentials });
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    const me = await app.inject({ method: 'GET', url: '/me', headers: { cookie } });
    expect(me.json()).toMatchObject({ identity: { email: 'demo@example.com' }, status: 'authenticated' });
    await app.inject({ method: 'POST', url: '/logout', headers: { cookie, host: 'localhost' } });
    const loggedOut = await app.inject({ method: 'GET', url: '/me', headers: { cookie } });
    expect(loggedOut.json()).toEqual({ identity: null, status: 'invalid' });
    expect(seen).toEqual(Array.from({ length: 5 }, () => [null, 'anonymous']));
    expect((await app.inject({ method: 'GET', url: '/double' })).json()).toEqual({ identity: { id: 'test-double' }, status: 'authenticated' });
    // The assignment shadowed that request only.
    expect((await app.inject({ method: 'GET', url: '/me' })).json()).toEqual({ identity: null, status: 'anonymous' });
  });

  it('accepts a gate from createIdgate(), so several apps can share one cache', async () => {
    const gate = createIdgate({ upstreamUrl: mock.url, apiKey: MOCK_API_KEY });
    const app = await build(async (app) => {
      await app.register(idgate, gate);
    });
    expect(app.idgate.gate).toBe(gate);
  });

  it("reports a missing plugin through Fastify's error path", async () => {
    const app = await build(async (app) => {
      app.get('/x', { preHandler: requireIdentity() }, async () => 'never');
    });
    const res = await app.inject({ method: 'GET', url: '/x' });
    expect(res.statusCode).toBe(500);
    expect(res.json().message).toMatch(/register/);
  });

  it('route config identity is checked when the route is added', async () => {
    const app = await build(async (app) => {
      await app.register(idgate, { upstreamUrl: mock.url, apiKey: MOCK_API_KEY });
    });
    expect(() => app.get('/x', { config: { identity: true as never } }, async () => 'x')).toThrow(/config\.identity/);
  });

  it('a bad option fails registration with a message naming it', async () => {
    const app = Fastify();
    apps.push(app);
    await expect(app.register(idgate, { upstreamUrl: mock.url, apiKey: 'nope' })).rejects.toThrow(/`apiKey`/);
  });
});
