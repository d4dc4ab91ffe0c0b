import Fastify from 'fastify';
import cookie from '@fastify/cookie';
import { idgate } from '@idgate/fastify';
import type { AdapterUnderTest } from './types.js';

export const fastifyAdapter: AdapterUnderTest = {
  name: 'fastify',
  async start({ idgate: options, trustProxy, cookieParser: withParser, chat, kyc }) {
    const app = Fastify({ trustProxy: trustProxy === true });
    if (withParser) await app.register(cookie);
    await app.register(idgate, { protect: ['/members/*'], ...options });
    // Both ways of protecting a route are exercised: route config and the preHandler.
    app.get('/public', async (request) => ({ identity: request.identity, status: request.identityStatus }));
    app.get('/account', { config: { identity: 'required' } }, async (request) => ({ identity: request.identity }));
    app.get('/api/me', { preHandler: app.requireIdentity() }, async (request) => ({ identity: request.identity }));
    app.get('/admin', { config: { identity: { where: (id) => id.attributes.plan === 'enterprise' } } }, async () => ({ ok: true }));
    app.get('/members/area', async (request) => ({ identity: request.identity }));
    app.get('/members/required', { config: { identity: 'required' } }, async (request) => ({ identity: request.identity }));
    app.get('/theme', async (request, reply) => {
      // @fastify/cookie's API when it is registered, else the plain header API: both must keep idgate's cookie.
      if (withParser) reply.setCookie('theme', 'dark', { path: '/' });
      else reply.header('set-cookie', 'theme=dark; Path=/');
      return { status: request.identityStatus };
    });
    app.get('/cookie-view', async (request) => ({ identity: request.identity?.id ?? null, status: request.identityStatus, parsed: request.cookies?.[String((request.query as { name?: string }).name)] ?? null, header: request.headers.cookie ?? null }));
    app.get('/login', async (_request, reply) => reply.type('text/html').send('<form method="post" action="/login"></form>'));
    app.post('/login', app.idgate.loginHandler());
    app.post('/logout', app.idgate.logoutHandler());
    if (chat) app.post('/chat', { preHandler: app.requireIdentity() }, app.idgate.chatProxy(chat));
    if (kyc) app.post('/kyc/session', { config: { identity: 'required' } }, app.idgate.kycSessionHandler(kyc.client, kyc.options));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    return {
      url: `http://127.0.0.1:${port}`,
      close: async () => { app.server.closeAllConnections(); await app.close(); },
    };
  },
};
