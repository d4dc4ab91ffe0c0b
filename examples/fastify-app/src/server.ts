import { announce, demoUpstream, listenAddress } from '@idgate/example-pages/demo';
import { createApp } from './app.js';

// With no upstream configured, run against the embedded mock so the demo
// needs nothing else installed.
const upstream = await demoUpstream();
const app = await createApp(upstream.idgate, upstream.kyc);
await app.listen(listenAddress());
announce('Fastify', upstream, () => app.close());
