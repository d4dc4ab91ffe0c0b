import Koa from 'koa';
import Router from '@koa/router';
import { identityMiddleware, loginHandler, logoutHandler, requireIdentity, type IdgateOptions } from '@idgate/koa';
import { accountPage, homePage, loginPage } from '@idgate/example-pages';

/** The example app: every route a typical store needs around sign-in. */
export function createApp(options?: IdgateOptions): Koa {
  const app = new Koa();
  app.use(identityMiddleware(options));

  const router = new Router();
  router.get('/', (ctx) => { ctx.type = 'html'; ctx.body = homePage(ctx.state.identity, ctx.state.identityStatus); });
  router.get('/login', (ctx) => { ctx.type = 'html'; ctx.body = loginPage(ctx.query); });
  router.post('/login', loginHandler());
  router.post('/logout', logoutHandler());
  router.get('/account', requireIdentity(), (ctx) => { ctx.type = 'html'; ctx.body = accountPage(ctx.state.identity!); });
  router.get('/api/me', requireIdentity(), (ctx) => { ctx.body = { identity: ctx.state.identity }; });
  app.use(router.routes()).use(router.allowedMethods());
  return app;
}
