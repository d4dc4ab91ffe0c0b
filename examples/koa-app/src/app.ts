import Koa from 'koa';
import Router from '@koa/router';
import { identityMiddleware, kycSessionHandler, loginHandler, logoutHandler, requireIdentity, type IdgateOptions } from '@idgate/koa';
import type { KycClient } from '@idgate/kyc';
import { accountPage, homePage, loginPage } from '@idgate/example-pages';

/** The example app: every route a typical store needs around sign-in; with `kyc` (from `createKycClient()`), also POST /kyc/session. */
export function createApp(options?: IdgateOptions, kyc?: KycClient): Koa {
  const app = new Koa();
  app.use(identityMiddleware(options));

  const router = new Router();
  router.get('/', (ctx) => { ctx.type = 'html'; ctx.body = homePage(ctx.state.identity, ctx.state.identityStatus); });
  router.get('/login', (ctx) => { ctx.type = 'html'; ctx.body = loginPage(ctx.query); });
  router.post('/login', loginHandler());
  router.post('/logout', logoutHandler());
  router.get('/account', requireIdentity(), (ctx) => { ctx.type = 'html'; ctx.body = accountPage(ctx.state.identity!, { kyc: kyc !== undefined }); });
  if (kyc) router.post('/kyc/session', requireIdentity(), kycSessionHandler(kyc));
  router.get('/api/me', requireIdentity(), (ctx) => { ctx.body = { identity: ctx.state.identity }; });
  app.use(router.routes()).use(router.allowedMethods());
  return app;
}
