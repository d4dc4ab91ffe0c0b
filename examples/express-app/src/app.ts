import express, { type Express } from 'express';
import { identityMiddleware, kycSessionHandler, loginHandler, logoutHandler, requireIdentity, type IdgateOptions } from '@idgate/express';
import type { KycClient } from '@idgate/kyc';
import { accountPage, homePage, loginPage } from '@idgate/example-pages';

/** The example app: every route a typical store needs around sign-in; with `kyc` (from `createKycClient()`), also POST /kyc/session. */
export function createApp(options?: IdgateOptions, kyc?: KycClient): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(identityMiddleware(options));

  app.get('/', (req, res) => res.type('html').send(homePage(req.identity, req.identityStatus)));
  app.get('/login', (req, res) => res.type('html').send(loginPage(req.query)));
  app.post('/login', loginHandler());
  app.post('/logout', logoutHandler());
  app.get('/account', requireIdentity(), (req, res) => res.type('html').send(accountPage(req.identity!, { kyc: kyc !== undefined })));
  if (kyc) app.post('/kyc/session', requireIdentity(), kycSessionHandler(kyc));
  app.get('/api/me', requireIdentity(), (req, res) => res.json({ identity: req.identity }));
  return app;
}
