import Fastify, { type FastifyInstance } from 'fastify';
import { idgate, type IdgateOptions } from '@idgate/fastify';
import type { KycClient } from '@idgate/kyc';
import { accountPage, homePage, loginPage } from '@idgate/example-pages';

/** The example app: every route a typical store needs around sign-in; with `kyc` (from `createKycClient()`), also POST /kyc/session. */
export async function createApp(options: IdgateOptions = {}, kyc?: KycClient): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(idgate, options);

  app.get('/', async (request, reply) => reply.type('text/html').send(homePage(request.identity, request.identityStatus)));
  app.get('/login', async (request, reply) => reply.type('text/html').send(loginPage(request.query as Record<string, unknown>)));
  app.post('/login', app.idgate.loginHandler());
  app.post('/logout', app.idgate.logoutHandler());
  app.get('/account', { config: { identity: 'required' } }, async (request, reply) => reply.type('text/html').send(accountPage(request.identity!, { kyc: kyc !== undefined })));
  if (kyc) app.post('/kyc/session', { preHandler: app.requireIdentity() }, app.idgate.kycSessionHandler(kyc));
  app.get('/api/me', { preHandler: app.requireIdentity() }, async (request) => ({ identity: request.identity }));
  return app;
}
