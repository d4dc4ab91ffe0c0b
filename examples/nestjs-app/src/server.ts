import type { Server } from 'node:http';
import { listen, runDemo } from '@idgate/example-pages/demo';
import { createApp } from './app.js';

// With no upstream configured, run against the embedded mock so the demo
// needs nothing else installed; core reads IDGATE_* itself.
await runDemo({
  name: 'NestJS',
  async start({ gate, upstream, address }) {
    const app = await createApp(gate, upstream.kyc, { demoHint: upstream.mock !== undefined });
    // The demo's own listen (not app.listen()), so a busy port or a bad HOST is one clear line.
    await listen(app.getHttpServer() as Server, address);
    return () => app.close();
  },
});
