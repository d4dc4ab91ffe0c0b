import express, { type Express } from 'express';
import { identityMiddleware, loginHandler, logoutHandler, requireIdentity, type IdgateOptions } from '@idgate/express';
import { accountPage, homePage, loginPage } from './pages.js';

/** The example app: every route a typical store needs around sign-in. */
export function createApp(options?: IdgateOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(identityMiddleware(options));

  app.get('/', (req, res) => res.type('html').send(homePage(req.identity, req.identityStatus)));
  app.get('/login', (req, res) => res.type('html').send(loginPage(req.query)));
  app.post('/login', loginHandler());
  app.post('/logout', logoutHandler());
  app.get('/account', requireIdentity(), (req, res) => res.type('html').send(accountPage(req.identity!)));
  app.get('/api/me', requireIdentity(), (req, res) => res.json({ identity: req.identity }));
  return app;
}
