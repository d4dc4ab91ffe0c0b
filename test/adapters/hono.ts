import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Hono } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { serve } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import { chatProxy, identityMiddleware, kycSessionHandler, loginHandler, logoutHandler, requireIdentity, type IdgateEnv } from '@idgate/hono';
import type { AdapterUnderTest } from './types.js';

export const honoAdapter: AdapterUnderTest = {
  name: 'hono',
  async start({ idgate, trustProxy, cookieParser: withParser, chat, kyc }) {
    const app = new Hono<IdgateEnv>();
    // Hono has no trust-proxy setting: the app says where the client IP comes from (here, like Express's `trust proxy`: the leftmost X-Forwarded-For).
    const clientIp = trustProxy ? (c: Parameters<typeof getConnInfo>[0]) => c.req.header('x-forwarded-for')?.split(',')[0]?.trim() ?? getConnInfo(c).remote.address : undefined;
    // Hono parses cookies on demand (getCookie); "the framework's cookie parser" is reading them first.
    if (withParser) app.use(async (c, next) => { getCookie(c); await next(); });
    app.use(identityMiddleware({ protect: ['/members/*'], ...idgate }, clientIp ? { clientIp } : {}));
    app.get('/public', (c) => c.json({ identity: c.var.identity, status: c.var.identityStatus }));
    app.get('/account', requireIdentity(), (c) => c.json({ identity: c.get('identity') }));
    app.get('/api/me', requireIdentity(), (c) => c.json({ identity: c.var.identity }));
    app.get('/admin', requireIdentity({ where: (id) => id.attributes.plan === 'enterprise' }), (c) => c.json({ ok: true }));
    app.get('/members/area', (c) => c.json({ identity: c.var.identity }));
    app.get('/members/required', requireIdentity(), (c) => c.json({ identity: c.var.identity }));
    app.get('/theme', (c) => { setCookie(c, 'theme', 'dark', { path: '/' }); return c.json({ status: c.var.identityStatus }); });
    app.get('/cookie-view', (c) => c.json({ identity: c.var.identity?.id ?? null, status: c.var.identityStatus, parsed: getCookie(c, c.req.query('name') ?? '') ?? null, header: c.req.header('cookie') ?? null }));
    app.get('/login', (c) => c.html('<form method="post" action="/login"></form>'));
    app.post('/login', loginHandler());
    app.post('/logout', logoutHandler());
    if (chat) app.post('/chat', requireIdentity(), chatProxy(chat));
    if (kyc) app.post('/kyc/session', requireIdentity(), kycSessionHandler(kyc.client, kyc.options));
    app.onError((err, c) => c.text('Internal Server Error', 500)); // like the others under test: a 500, not a printed stack
    const server = await new Promise<Server>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server));
    });
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
    };
  },
};
