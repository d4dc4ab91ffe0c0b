// The consumer smoke pass: run by the scratch ESM and CJS apps that installed
// the packed tarballs (see test/consumer.test.ts). It receives the modules as
// the app loaded them (import or require), so the same checks exercise either
// build. Plain node:assert, no test runner: this file runs outside the
// workspace, on Node 20, 22 and 24. Every server listens on 127.0.0.1.
import assert from 'node:assert/strict';

const HTML = { accept: 'text/html', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };
const SECRET = 'consumer-smoke-secret-0123456789abcdef';

/** Express app with every handler, on an ephemeral port. */
async function expressApp(m, options, chat, kyc) {
  const { express } = m;
  const { identityMiddleware, requireIdentity, loginHandler, logoutHandler, chatProxy, kycSessionHandler } = m.idExpress;
  const app = express();
  app.use(identityMiddleware(options));
  app.get('/account', requireIdentity(), (req, res) => res.json({ identity: req.identity }));
  app.post('/login', loginHandler());
  app.post('/logout', logoutHandler());
  app.post('/chat', requireIdentity(), chatProxy(chat));
  app.post('/kyc/session', requireIdentity(), kycSessionHandler(kyc));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return listening(server);
}

/** Koa app with @koa/router, on an ephemeral port. */
async function koaApp(m, options, chat, kyc) {
  const { Koa, Router } = m;
  const { identityMiddleware, requireIdentity, loginHandler, logoutHandler, chatProxy, kycSessionHandler } = m.idKoa;
  const app = new Koa();
  app.silent = true;
  app.use(identityMiddleware(options));
  const router = new Router();
  router.get('/account', requireIdentity(), (ctx) => { ctx.body = { identity: ctx.state.identity }; });
  router.post('/login', loginHandler());
  router.post('/logout', logoutHandler());
  router.post('/chat', requireIdentity(), chatProxy(chat));
  router.post('/kyc/session', requireIdentity(), kycSessionHandler(kyc));
  app.use(router.routes());
  const server = m.http.createServer(app.callback()).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return listening(server);
}

/** Fastify app with the plugin, route config and the plugin's handlers. */
async function fastifyApp(m, options, chat, kyc) {
  const app = m.Fastify();
  await app.register(m.idFastify.idgate, options);
  app.get('/account', { config: { identity: 'required' } }, async (request) => ({ identity: request.identity }));
  app.post('/login', app.idgate.loginHandler());
  app.post('/logout', app.idgate.logoutHandler());
  app.post('/chat', { preHandler: app.requireIdentity() }, app.idgate.chatProxy(chat));
  app.post('/kyc/session', { config: { identity: 'required' } }, app.idgate.kycSessionHandler(kyc));
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { url: `http://127.0.0.1:${app.server.address().port}`, close: () => app.close() };
}

function listening(server) {
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

const cookieOf = (res) => (res.headers.getSetCookie()[0] ?? '').split(';')[0];

/** One adapter through login, protect, navigation redirect, chat, KYC, expiry and logout. */
async function pass(name, start, m, mock, onEvent) {
  const { createChatForwarder } = m.chat;
  const { createKycClient } = m.kyc;
  const mu = m.mock;
  // ttl 1 ms: every request re-verifies, so an expiry at the upstream shows at once.
  const options = { upstreamUrl: mock.url, apiKey: mu.MOCK_API_KEY, secret: SECRET, loginUrl: '/login', cache: { ttl: 1 }, loginThrottle: false, onEvent };
  const chat = createChatForwarder({ baseUrl: mock.url, apiKey: mu.MOCK_CHAT_API_KEY, agentId: 7, onEvent });
  const kyc = createKycClient({ baseUrl: mock.url, appId: mu.MOCK_KYC_APP_ID, appSecret: mu.MOCK_KYC_APP_SECRET, tenantId: mu.MOCK_KYC_TENANT_ID, formId: mu.MOCK_KYC_FORM_ID, onEvent });
  const app = await start(m, options, chat, kyc);
  const at = (path, init = {}) => fetch(`${app.url}${path}`, { redirect: 'manual', ...init });
  const post = (path, cookie, body) => at(path, { method: 'POST', headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) }, body: JSON.stringify(body ?? {}) });
  const login = async () => {
    const res = await post('/login', undefined, { email: mu.DEMO_CUSTOMER.email, password: mu.DEMO_CUSTOMER.password });
    assert.equal(res.status, 200, `${name}: login`);
    const cookie = cookieOf(res);
    assert.match(cookie, /^identityId=[A-Za-z0-9]{32}\./, `${name}: login sets the signed session cookie`);
    return cookie;
  };
  try {
    // protect: API 401, navigation 303 to the login page with returnTo
    const api = await at('/account');
    assert.equal(api.status, 401, `${name}: anonymous API`);
    assert.deepEqual(await api.json(), { error: 'UNAUTHENTICATED' });
    const nav = await at('/account', { headers: HTML });
    assert.equal(nav.status, 303, `${name}: anonymous navigation`);
    assert.equal(nav.headers.get('location'), '/login?returnTo=%2Faccount');

    const cookie = await login();
    const me = await at('/account', { headers: { cookie } });
    assert.equal(me.status, 200, `${name}: signed-in account`);
    const { identity } = await me.json();
    assert.equal(identity.email, mu.DEMO_CUSTOMER.email);

    // chat: the userId comes from the identity, never from the body
    const sent = await post('/chat', cookie, { message: 'hello', userId: 'someone-else', stream: false });
    assert.equal(sent.status, 200, `${name}: chat`);
    assert.equal(mock.requests('chat').at(-1).body.userId, identity.id, `${name}: chat userId`);

    // KYC: a session id for the signed-in e-mail
    const session = await post('/kyc/session', cookie, {});
    assert.equal(session.status, 200, `${name}: kyc`);
    const kycBody = await session.json();
    assert.equal(typeof kycBody.sessionId, 'string');
    assert.equal(mock.requests('kyc').at(-1).body.customerEmail, mu.DEMO_CUSTOMER.email);

    // logout: the cookie is cleared and the session is over
    const out = await post('/logout', cookie);
    assert.ok(out.status < 400, `${name}: logout ${out.status}`);
    assert.match(out.headers.getSetCookie()[0] ?? '', /^identityId=; .*Max-Age=0/);
    assert.equal((await at('/account', { headers: { cookie } })).status, 401, `${name}: after logout`);

    // expiry at the upstream: navigation 303 with reason=expired, API 401 SESSION_EXPIRED
    const second = await login();
    mock.expire({ email: mu.DEMO_CUSTOMER.email });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const expiredNav = await at('/account', { headers: { ...HTML, cookie: second } });
    assert.equal(expiredNav.status, 303, `${name}: expired navigation`);
    assert.equal(expiredNav.headers.get('location'), '/login?returnTo=%2Faccount&reason=expired');
    const third = await login();
    mock.expire({ email: mu.DEMO_CUSTOMER.email });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const expiredApi = await at('/account', { headers: { cookie: third } });
    assert.equal(expiredApi.status, 401, `${name}: expired API`);
    assert.deepEqual(await expiredApi.json(), { error: 'SESSION_EXPIRED' });
  } finally {
    await app.close();
  }
}

/**
 * Runs the smoke pass for Express, Koa and Fastify against the packed mock
 * upstream; resolves to the names of the checks that passed, throws on the
 * first failure.
 */
export async function smoke(m) {
  const mock = await m.mock.startMockUpstream({ port: 0 });
  const passed = [];
  // @idgate/telemetry's prometheus entry, fed by every adapter's idgate, chat and KYC.
  const registry = new m.promClient.Registry();
  const metrics = m.telemetry.prometheusMetrics({ registry });
  try {
    for (const [name, start] of [['express', expressApp], ['koa', koaApp], ['fastify', fastifyApp]]) {
      await pass(name, start, m, mock, metrics.onEvent);
      passed.push(name);
    }
    const text = await registry.metrics();
    for (const op of ['login', 'verify', 'logout', 'chat', 'kyc']) {
      assert.match(text, new RegExp(`^idgate_upstream_request_duration_seconds_count\\{operation="${op}",outcome="ok"\\} [1-9]`, 'm'), `metrics: ${op}`);
    }
    passed.push('telemetry');
  } finally {
    await mock.close();
  }
  return passed;
}
