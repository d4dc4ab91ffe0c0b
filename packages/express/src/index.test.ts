import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express, type Request } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockUpstream, MOCK_API_KEY, type MockUpstream } from '@idgate/mock-upstream';
import { createIdgate, identityMiddleware, loginHandler, requireIdentity } from './index.js';

// req.identity and req.identityStatus are accessors on Express's request
// prototype (no property added to each req). These check what an app sees
// through them, over real sockets.
describe('@idgate/express: req.identity', () => {
  let mock: MockUpstream;
  const servers: Server[] = [];
  const listen = async (handler: Express | ((req: IncomingMessage, res: ServerResponse) => void)) => {
    const server = createServer(handler).listen(0, '127.0.0.1');
    servers.push(server);
    await new Promise<void>((resolve) => server.once('listening', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  const options = () => ({ upstreamUrl: mock.url, apiKey: MOCK_API_KEY, secret: 'express-test-secret-0123456789' });
  const signIn = async (url: string, email = 'demo@example.com', password = 'demo-password') => {
    const res = await fetch(`${url}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
    expect(res.status).toBe(200);
    return res.headers.getSetCookie()[0]!.split(';')[0]!;
  };
  const who = (req: Request) => ({ id: req.identity?.id ?? null, status: req.identityStatus ?? null });

  beforeAll(async () => {
    mock = await startMockUpstream({ port: 0, customers: [{ email: 'anna@example.com', password: 'anna-password', id: 'c_anna', name: 'Anna' }] });
  });
  afterAll(async () => {
    for (const s of servers) s.closeAllConnections(), s.close();
    await mock.close();
  });

  it('is seen by handlers of the app, of a mounted sub-app and of a router, and is undefined before the middleware', async () => {
    const app = express();
    const before: unknown[] = [];
    app.use((req, _res, next) => {
      before.push(req.identity, req.identityStatus);
      next();
    });
    app.use(identityMiddleware(options()));
    app.post('/login', loginHandler());
    const sub = express();
    sub.get('/who', (req, res) => res.json(who(req)));
    app.use('/sub', sub);
    const router = express.Router();
    router.get('/who', requireIdentity(), (req, res) => res.json(who(req)));
    app.use('/router', router);
    app.get('/who', (req, res) => res.json({ ...who(req), own: Object.keys(req).includes('identity') }));
    const url = await listen(app);
    const cookie = await signIn(url);

    expect(await (await fetch(`${url}/who`)).json()).toEqual({ id: null, status: 'anonymous', own: false });
    const signedIn = { id: expect.any(String), status: 'authenticated' };
    expect(await (await fetch(`${url}/who`, { headers: { cookie } })).json()).toEqual({ ...signedIn, own: false });
    expect(await (await fetch(`${url}/sub/who`, { headers: { cookie } })).json()).toEqual(signedIn);
    expect(await (await fetch(`${url}/router/who`, { headers: { cookie } })).json()).toEqual(signedIn);
    expect((await fetch(`${url}/router/who`)).status).toBe(401);
    expect(before.every((v) => v === undefined)).toBe(true);
  });

  it('each request sees its own identity, also with two apps and two gates in one process', async () => {
    const build = () => {
      const app = express();
      app.use(identityMiddleware(createIdgate(options())));
      app.post('/login', loginHandler());
      app.get('/who', (req, res) => setTimeout(() => res.json(who(req)), Math.random() * 5));
      return app;
    };
    const [a, b] = [await listen(build()), await listen(build())];
    const [cookieA, cookieB] = [await signIn(a), await signIn(b, 'anna@example.com', 'anna-password')];
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => {
        const [url, cookie] = i % 4 === 0 ? [a, cookieA] : i % 4 === 1 ? [b, cookieB] : i % 4 === 2 ? [a, undefined] : [b, cookieA];
        return fetch(`${url}/who`, { headers: cookie ? { cookie } : {} }).then(async (r) => [i % 4, (await r.json()) as { id: string | null; status: string }] as const);
      }),
    );
    const ids = new Set(answers.filter(([k]) => k < 2).map(([, v]) => v.id));
    expect(ids.size).toBe(2);
    for (const [k, v] of answers) {
      if (k < 2) expect(v.status).toBe('authenticated');
      // Another gate's cookie verifies against the same upstream, but is signed with this gate's secret only when both share it.
      else if (k === 2) expect(v).toEqual({ id: null, status: 'anonymous' });
    }
  });

  it('an app may assign req.identity itself (a test double, a later middleware), and reads back what it set', async () => {
    const app = express();
    app.use(identityMiddleware(options()));
    app.use((req, _res, next) => {
      if (req.query.impersonate) req.identity = { id: 'stub', email: 'stub@example.com', attributes: {}, verifiedAt: new Date(0) };
      next();
    });
    app.get('/who', (req, res) => res.json(who(req)));
    const url = await listen(app);
    expect(await (await fetch(`${url}/who?impersonate=1`)).json()).toEqual({ id: 'stub', status: 'anonymous' });
    // The next request, on the same prototype, is not affected by the last one's assignment.
    expect(await (await fetch(`${url}/who`)).json()).toEqual({ id: null, status: 'anonymous' });
  });

  it('keeps its state in res.locals under a symbol: invisible to templates, kept by a spread copy, and a replaced res.locals fails closed', async () => {
    const app = express();
    app.use(identityMiddleware(options()));
    app.post('/login', loginHandler());
    app.use((req, res, next) => {
      if (req.query.locals === 'spread') res.locals = { ...res.locals, title: 'spread' };
      if (req.query.locals === 'assign') res.locals = Object.assign({}, res.locals, { title: 'assign' });
      if (req.query.locals === 'replace') res.locals = { title: 'replaced' };
      next();
    });
    app.get('/who', requireIdentity(), (req, res) => res.json({ ...who(req), keys: Object.keys(res.locals), json: JSON.stringify(res.locals) }));
    app.get('/open', (req, res) => res.json(who(req)));
    // Express's default handler: a 500 without the stack in production, the message never sent to the client.
    app.use((err: Error, _req: Request, res: express.Response, _next: express.NextFunction) => void res.status(500).json({ error: err.name }));
    const url = await listen(app);
    const cookie = await signIn(url);

    const plain = (await (await fetch(`${url}/who`, { headers: { cookie } })).json()) as { id: string };
    expect(plain).toEqual({ id: expect.any(String), status: 'authenticated', keys: [], json: '{}' });
    for (const how of ['spread', 'assign']) {
      const body = await (await fetch(`${url}/who?locals=${how}`, { headers: { cookie } })).json();
      expect(body).toEqual({ id: plain.id, status: 'authenticated', keys: ['title'], json: JSON.stringify({ title: how }) });
    }
    // Replaced: the route rule cannot see the middleware's verdict, so it refuses (never lets the request through).
    const replaced = await fetch(`${url}/who?locals=replace`, { headers: { cookie } });
    expect(replaced.status).toBe(500);
    expect(await replaced.json()).toEqual({ error: 'ConfigError' });
    // Without a rule the handler sees no identity: anonymous, not another request's.
    expect(await (await fetch(`${url}/open?locals=replace`, { headers: { cookie } })).json()).toEqual({ id: null, status: null });
  });

  it('on a bare Node request (no Express prototype) the middleware sets plain properties', async () => {
    const middleware = identityMiddleware(options());
    const url = await listen((req: IncomingMessage, res: ServerResponse) => {
      middleware(req as Request, res as never, () => {
        const r = req as Request;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ ...who(r), own: Object.hasOwn(r, 'identityStatus') }));
      });
    });
    expect(await (await fetch(`${url}/`)).json()).toEqual({ id: null, status: 'anonymous', own: true });
  });
});
