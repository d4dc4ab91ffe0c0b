import { Hono } from 'hono';
import { identityMiddleware, kycSessionHandler, loginHandler, logoutHandler, requireIdentity, type IdgateEnv, type IdgateOptions } from '@idgate/hono';
import type { KycClient } from '@idgate/kyc';
import { accountPage, homePage, loginPage } from '@idgate/example-pages';

/** The example app: every route a typical store needs around sign-in; with `kyc` (from `createKycClient()`), also POST /kyc/session. */
export function createApp(options?: IdgateOptions, kyc?: KycClient): Hono<IdgateEnv> {
  const app = new Hono<IdgateEnv>();
  app.use(identityMiddleware(options));
  app.get('/', (c) => c.html(homePage(c.var.identity, c.var.identityStatus)));
  app.get('/login', (c) => c.html(loginPage(c.req.query())));
  app.post('/login', loginHandler());
  app.post('/logout', logoutHandler());
  app.get('/account', requireIdentity(), (c) => c.html(accountPage(c.var.identity!, { kyc: kyc !== undefined })));
  if (kyc) app.post('/kyc/session', requireIdentity(), kycSessionHandler(kyc));
  app.get('/api/me', requireIdentity(), (c) => c.json({ identity: c.var.identity }));
  return app;
}
