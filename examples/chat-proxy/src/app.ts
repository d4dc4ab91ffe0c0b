import express, { type Express } from 'express';
import { chatProxy, identityMiddleware, loginHandler, logoutHandler, requireIdentity, type IdgateOptions } from '@idgate/express';
import { ChatError, createChatForwarder, type ChatForwarderOptions } from '@idgate/chat';
import { loginPage } from '@idgate/example-pages';
import { chatPage } from './pages.js';

/** The example app: sign in, then chat as yourself with streamed answers. */
export function createApp(options: { idgate?: IdgateOptions; chat: ChatForwarderOptions }): Express {
  const forwarder = createChatForwarder(options.chat);
  const app = express();
  app.disable('x-powered-by');
  app.use(identityMiddleware({ afterLoginUrl: '/chat', ...options.idgate }));

  app.get('/', (req, res) => res.redirect(303, req.identity ? '/chat' : '/login'));
  app.get('/login', (req, res) => res.type('html').send(loginPage(req.query)));
  app.post('/login', loginHandler());
  app.post('/logout', logoutHandler());
  app.get('/chat', requireIdentity(), (req, res) => res.type('html').send(chatPage(req.identity!)));
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
  return app;
}
