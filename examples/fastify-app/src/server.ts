import { listenError, runDemo } from '@idgate/example-pages/demo';
import { createApp } from './app.js';

// With no upstream configured, run against the embedded mock so the demo
// needs nothing else installed; core reads IDGATE_* itself.
await runDemo({
  name: 'Fastify',
  async start({ gate, upstream, address }) {
    const app = await createApp(gate, upstream.kyc, { demoHint: upstream.mock !== undefined });
    await app.listen(address).catch((err: unknown) => {
      throw listenError(err, address);
    });
    return () => app.close();
  },
});
