// A small Hono app with idgate, run by test/runtimes.test.ts on Bun and on Deno
// (plain JavaScript, so both run it as it is). It imports the built packages.
import { Hono } from 'hono';
import { identityMiddleware, loginHandler, logoutHandler, requireIdentity } from '@idgate/hono';

const env = globalThis.Deno ? globalThis.Deno.env.toObject() : globalThis.process.env;
const app = new Hono();
app.use(identityMiddleware({ upstreamUrl: env.SMOKE_UPSTREAM, apiKey: env.SMOKE_API_KEY, secret: env.SMOKE_SECRET, protect: ['/members/*'] }));
app.get('/public', (c) => c.json({ identity: c.var.identity, status: c.var.identityStatus }));
app.get('/account', requireIdentity(), (c) => c.json({ identity: c.var.identity }));
app.get('/members/area', (c) => c.json({ identity: c.var.identity }));
app.post('/login', loginHandler());
app.post('/logout', logoutHandler());

const ready = (port) => console.log(JSON.stringify({ port, runtime: globalThis.Bun ? `bun ${globalThis.Bun.version}` : `deno ${globalThis.Deno.version.deno}` }));
if (globalThis.Bun) {
  const server = globalThis.Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: app.fetch });
  ready(server.port);
} else {
  globalThis.Deno.serve({ port: 0, hostname: '127.0.0.1', onListen: ({ port }) => ready(port) }, app.fetch);
}
