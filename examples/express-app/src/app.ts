import express, { type Express, type RequestHandler } from 'express';
import { identityMiddleware, kycSessionHandler, loginHandler, logoutHandler, requireIdentity, type Idgate, type IdgateOptions } from '@idgate/express';
import type { KycClient } from '@idgate/kyc';
import { accountPage, exampleGate, homePage, loginPage, notFoundPage, whileUnavailable, type PageOptions } from '@idgate/example-pages';

/**
 * The example app: every route a typical store needs around sign-in; with
 * `kyc` (from `createKycClient()`), also POST /kyc/session.
 */
export function createApp(options?: IdgateOptions | Idgate, kyc?: KycClient, pages: PageOptions = {}): Express {
  const gate = exampleGate(options);
  const app = express();
  app.disable('x-powered-by');
  app.use(identityMiddleware(gate));
  // A page navigation while the sign-in service is down gets a page, not the API's JSON 503.
  const unavailable: RequestHandler = (req, res, next) => {
    const page = whileUnavailable(gate, req, req.identityStatus);
    if (!page) return next();
    res.status(503).set(page.headers).type('html').send(page.html);
  };

  app.get('/', (req, res) => res.type('html').send(homePage(req.identity, req.identityStatus)));
  app.get('/login', (req, res) => res.type('html').send(loginPage(req.query, pages)));
  app.post('/login', loginHandler());
  app.post('/logout', logoutHandler());
  app.get('/account', unavailable, requireIdentity(), (req, res) => res.type('html').send(accountPage(req.identity!, { kyc: kyc !== undefined })));
  if (kyc) app.post('/kyc/session', requireIdentity(), kycSessionHandler(kyc));
  app.get('/api/me', requireIdentity(), (req, res) => res.json({ identity: req.identity }));
  app.use((_req, res) => res.status(404).type('html').send(notFoundPage()));
  return app;
}
