import { serve } from '@hono/node-server';
import { announce, demoUpstream, listenAddress } from '@idgate/example-pages/demo';
import { createApp } from './app.js';

// With no upstream configured, run against the embedded mock so the demo
// needs nothing else installed.
const upstream = await demoUpstream();
const app = createApp(upstream.idgate, upstream.kyc);
const { port, host } = listenAddress();
const server = serve({ fetch: app.fetch, port, hostname: host }, () => announce('Hono', upstream, () => server.close()));
