import { Hono } from 'hono';
import { identityMiddleware, kycSessionHandler, loginHandler, logoutHandler, requireIdentity, type Idgate, type IdgateEnv, type IdgateOptions } from '@idgate/hono';
import type { KycClient } from '@idgate/kyc';
import { accountPage, exampleGate, homePage, loginPage, notFoundPage, whileUnavailable, type PageOptions } from '@idgate/example-pages';

/** The example app: every route a typical store needs around sign-in; with `kyc` (from `createKycClient()`), also POST /kyc/session. */
export function createApp(options?: IdgateOptions | Idgate, kyc?: KycClient, pages: PageOptions = {}): Hono<IdgateEnv> {
  const gate = exampleGate(options);
  const app = new Hono<IdgateEnv>();
  app.use(identityMiddleware(gate));
  app.get('/', (c) => c.html(homePage(c.var.identity, c.var.identityStatus)));
  app.get('/login', (c) => c.html(loginPage(c.req.query(), pages)));
  app.post('/login', loginHandler());
  app.post('/logout', logoutHandler());
  app.get(
    '/account',
    // A page navigation while the sign-in service is down gets a page, not the API's JSON 503.
    async (c, next) => {
      const page = whileUnavailable(gate, { method: c.req.method, headers: Object.fromEntries(c.req.raw.headers) }, c.var.identityStatus);
      if (page) return c.html(page.html, 503, page.headers);
      await next();
    },
    requireIdentity(),
    (c) => c.html(accountPage(c.var.identity!, { kyc: kyc !== undefined })),
  );
  if (kyc) app.post('/kyc/session', requireIdentity(), kycSessionHandler(kyc));
  app.get('/api/me', requireIdentity(), (c) => c.json({ identity: c.var.identity }));
  app.notFound((c) => c.html(notFoundPage(), 404));
  return app;
}
