import type { AddressInfo } from 'node:net';
import express from 'express';
import cookieParser from 'cookie-parser';
import { chatProxy, identityMiddleware, kycSessionHandler, loginHandler, logoutHandler, requireIdentity } from '@idgate/express';
import type { AdapterUnderTest } from './types.js';

export const expressAdapter: AdapterUnderTest = {
  name: 'express',
  async start({ idgate, trustProxy, cookieParser: withParser, chat, kyc }) {
    const app = express();
    if (trustProxy) app.set('trust proxy', true);
    if (withParser) app.use(cookieParser());
    app.use(identityMiddleware({ protect: ['/members/*'], ...idgate }));
    app.get('/public', (req, res) => res.json({ identity: req.identity, status: req.identityStatus }));
    app.get('/account', requireIdentity(), (req, res) => res.json({ identity: req.identity }));
    app.get('/api/me', requireIdentity(), (req, res) => res.json({ identity: req.identity }));
    app.get('/admin', requireIdentity({ where: (id) => id.attributes.plan === 'enterprise' }), (req, res) => res.json({ ok: true }));
    app.get('/members/area', (req, res) => res.json({ identity: req.identity }));
    app.get('/members/required', requireIdentity(), (req, res) => res.json({ identity: req.identity }));
    app.get('/theme', (req, res) => res.cookie('theme', 'dark').json({ status: req.identityStatus }));
    app.get('/cookie-view', (req, res) => res.json({ identity: req.identity?.id ?? null, status: req.identityStatus, parsed: (req.cookies as Record<string, unknown> | undefined)?.[String(req.query.name)] ?? null, header: req.headers.cookie ?? null }));
    app.get('/login', (_req, res) => res.type('html').send('<form method="post" action="/login"></form>'));
    app.post('/login', loginHandler());
    app.post('/logout', logoutHandler());
    if (chat) app.post('/chat', requireIdentity(), chatProxy(chat));
    if (kyc) app.post('/kyc/session', requireIdentity(), kycSessionHandler(kyc.client, kyc.options));
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
    };
  },
};
