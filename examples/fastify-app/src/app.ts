import Fastify, { type FastifyInstance } from 'fastify';
import { idgate, type Idgate, type IdgateOptions } from '@idgate/fastify';
import type { KycClient } from '@idgate/kyc';
import { accountPage, exampleGate, homePage, loginPage, notFoundPage, whileUnavailable, type PageOptions } from '@idgate/example-pages';

/**
 * The example app: every route a typical store needs around sign-in; with
 * `kyc` (from `createKycClient()`), also POST /kyc/session.
 */
export async function createApp(options?: IdgateOptions | Idgate, kyc?: KycClient, pages: PageOptions = {}): Promise<FastifyInstance> {
  const gate = exampleGate(options);
  const app = Fastify();
  await app.register(idgate, gate);

  app.get('/', async (request, reply) => reply.type('text/html').send(homePage(request.identity, request.identityStatus)));
  app.get('/login', async (request, reply) => reply.type('text/html').send(loginPage(request.query as Record<string, unknown>, pages)));
  app.post('/login', app.idgate.loginHandler());
  app.post('/logout', app.idgate.logoutHandler());
  app.get('/account', {
    // A page navigation while the sign-in service is down gets a page, not the API's JSON 503.
    onRequest: async (request, reply) => {
      const page = whileUnavailable(gate, request, request.identityStatus);
      if (page) return reply.code(503).headers(page.headers).type('text/html').send(page.html);
    },
    preHandler: app.requireIdentity(),
  }, async (request, reply) => reply.type('text/html').send(accountPage(request.identity!, { kyc: kyc !== undefined })));
  if (kyc) app.post('/kyc/session', { preHandler: app.requireIdentity() }, app.idgate.kycSessionHandler(kyc));
  app.get('/api/me', { preHandler: app.requireIdentity() }, async (request) => ({ identity: request.identity }));
  app.setNotFoundHandler((_request, reply) => reply.code(404).type('text/html').send(notFoundPage()));
  return app;
}
