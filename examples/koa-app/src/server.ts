import { httpServer, listen, runDemo } from '@idgate/example-pages/demo';
import { createApp } from './app.js';

// With no upstream configured, run against the embedded mock so the demo
// needs nothing else installed; core reads IDGATE_* itself.
await runDemo({
  name: 'Koa',
  async start({ gate, upstream, address }) {
    const server = httpServer(createApp(gate, upstream.kyc, { demoHint: upstream.mock !== undefined }).callback());
    await listen(server, address);
    return () => server.close();
  },
});
