import { createAdaptorServer } from '@hono/node-server';
import { listen, runDemo } from '@idgate/example-pages/demo';
import { createApp } from './app.js';

// With no upstream configured, run against the embedded mock so the demo
// needs nothing else installed; core reads IDGATE_* itself.
await runDemo({
  name: 'Hono',
  async start({ gate, upstream, address }) {
    const app = createApp(gate, upstream.kyc, { demoHint: upstream.mock !== undefined });
    const server = createAdaptorServer({ fetch: app.fetch });
    await listen(server as Parameters<typeof listen>[0], address);
    return () => server.close();
  },
});
