import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import Koa from 'koa';
import Router from '@koa/router';
import { chatProxy, identityMiddleware, kycSessionHandler, loginHandler, logoutHandler, requireIdentity } from '@idgate/koa';
import type { AdapterUnderTest } from './types.js';

export const koaAdapter: AdapterUnderTest = {
  name: 'koa',
  async start({ idgate, trustProxy, cookieParser: withParser, chat, kyc }) {
    const app = new Koa({ proxy: trustProxy === true });
    app.silent = true; // like Express's finalhandler under NODE_ENV=test: 500s are asserted, not printed
    // Koa parses cookies itself (ctx.cookies); "the framework's cookie parser" is reading them first.
    if (withParser) app.use((ctx, next) => (ctx.cookies.get('other'), next()));
    app.use(identityMiddleware({ protect: ['/members/*'], ...idgate }));
    const router = new Router();
    router.get('/public', (ctx) => { ctx.body = { identity: ctx.state.identity, status: ctx.state.identityStatus }; });
    router.get('/account', requireIdentity(), (ctx) => { ctx.body = { identity: ctx.state.identity }; });
    router.get('/api/me', requireIdentity(), (ctx) => { ctx.body = { identity: ctx.state.identity }; });
    router.get('/admin', requireIdentity({ where: (id) => id.attributes.plan === 'enterprise' }), (ctx) => { ctx.body = { ok: true }; });
    router.get('/members/area', (ctx) => { ctx.body = { identity: ctx.state.identity }; });
    router.get('/members/required', requireIdentity(), (ctx) => { ctx.body = { identity: ctx.state.identity }; });
    router.get('/theme', (ctx) => { ctx.cookies.set('theme', 'dark'); ctx.body = { status: ctx.state.identityStatus }; });
    router.get('/cookie-view', (ctx) => { ctx.body = { identity: ctx.state.identity?.id ?? null, status: ctx.state.identityStatus, parsed: ctx.cookies.get(String(ctx.query.name)) ?? null, header: ctx.headers.cookie ?? null }; });
    router.get('/login', (ctx) => { ctx.type = 'html'; ctx.body = '<form method="post" action="/login"></form>'; });
    router.post('/login', loginHandler());
    router.post('/logout', logoutHandler());
    if (chat) router.post('/chat', requireIdentity(), chatProxy(chat));
    if (kyc) router.post('/kyc/session', requireIdentity(), kycSessionHandler(kyc.client, kyc.options));
    app.use(router.routes());
    const server = createServer(app.callback()).listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
    };
  },
};
