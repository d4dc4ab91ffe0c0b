import Koa, { type Middleware } from 'koa';
import Router from '@koa/router';
import { identityMiddleware, kycSessionHandler, loginHandler, logoutHandler, requireIdentity, type Idgate, type IdgateOptions } from '@idgate/koa';
import type { KycClient } from '@idgate/kyc';
import { accountPage, exampleGate, homePage, loginPage, notFoundPage, whileUnavailable, type PageOptions } from '@idgate/example-pages';

/**
 * The example app: every route a typical store needs around sign-in; with
 * `kyc` (from `createKycClient()`), also POST /kyc/session.
 */
export function createApp(options?: IdgateOptions | Idgate, kyc?: KycClient, pages: PageOptions = {}): Koa {
  const gate = exampleGate(options);
  const app = new Koa();
  app.use(identityMiddleware(gate));
  // A page navigation while the sign-in service is down gets a page, not the API's JSON 503.
  const unavailable: Middleware = (ctx, next) => {
    const page = whileUnavailable(gate, ctx, ctx.state.identityStatus);
    if (!page) return next();
    ctx.status = 503;
    ctx.set(page.headers);
    ctx.type = 'html';
    ctx.body = page.html;
  };

  const router = new Router();
  router.get('/', (ctx) => { ctx.type = 'html'; ctx.body = homePage(ctx.state.identity, ctx.state.identityStatus); });
  router.get('/login', (ctx) => { ctx.type = 'html'; ctx.body = loginPage(ctx.query, pages); });
  router.post('/login', loginHandler());
  router.post('/logout', logoutHandler());
  router.get('/account', unavailable, requireIdentity(), (ctx) => { ctx.type = 'html'; ctx.body = accountPage(ctx.state.identity!, { kyc: kyc !== undefined }); });
  if (kyc) router.post('/kyc/session', requireIdentity(), kycSessionHandler(kyc));
  router.get('/api/me', requireIdentity(), (ctx) => { ctx.body = { identity: ctx.state.identity }; });
  app.use(router.routes()).use(router.allowedMethods());
  app.use((ctx) => {
    ctx.status = 404;
    ctx.type = 'html';
    ctx.body = notFoundPage();
  });
  return app;
}
