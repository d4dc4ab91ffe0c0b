import express, { type Express, type RequestHandler } from 'express';
import { chatProxy, identityMiddleware, loginHandler, logoutHandler, requireIdentity, type Idgate, type IdgateOptions } from '@idgate/express';
import { ChatError, createChatForwarder, type ChatForwarderOptions } from '@idgate/chat';
import { exampleGate, loginPage, notFoundPage, whileUnavailable } from '@idgate/example-pages';
import { chatPage } from './pages.js';

/** The example app: sign in, then chat as yourself with streamed answers; `demoHint` shows the mock's demo account on the login page. */
export function createApp(options: { idgate?: IdgateOptions | Idgate; chat: ChatForwarderOptions; demoHint?: boolean }): Express {
  const forwarder = createChatForwarder(options.chat);
  const gate = exampleGate(options.idgate, { afterLoginUrl: '/chat' });
  const app = express();
  app.disable('x-powered-by');
  app.use(identityMiddleware(gate));
  // A page navigation while the sign-in service is down gets a page, not the API's JSON 503.
  const unavailable: RequestHandler = (req, res, next) => {
    const page = whileUnavailable(gate, req, req.identityStatus);
    if (!page) return next();
    res.status(503).set(page.headers).type('html').send(page.html);
  };

  app.get('/', unavailable, (req, res) => res.redirect(303, req.identity ? '/chat' : '/login'));
  app.get('/login', (req, res) => res.type('html').send(loginPage(req.query, { demoHint: options.demoHint ?? false })));
  app.post('/login', loginHandler());
  app.post('/logout', logoutHandler());
  app.get('/chat', unavailable, requireIdentity(), (req, res) => res.type('html').send(chatPage(req.identity!)));
  // The browser says only what to ask; the userId, the key and the agent are the server's.
  app.post('/chat', requireIdentity(), chatProxy(forwarder));
  app.get('/chat/conversations', requireIdentity(), async (req, res, next) => {
    try {
      res.json(await forwarder.listConversations(req.identity!));
    } catch (err) {
      if (err instanceof ChatError) res.status(err.status).json({ error: err.code, message: err.message });
      else next(err);
    }
  });
  app.use((_req, res) => res.status(404).type('html').send(notFoundPage()));
  return app;
}
