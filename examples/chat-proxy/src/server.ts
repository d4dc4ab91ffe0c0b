import { MOCK_CHAT_API_KEY } from '@idgate/mock-upstream';
import { httpServer, listen, namingEnv, runDemo } from '@idgate/example-pages/demo';
import { createApp } from './app.js';

// Whatever upstream is not configured is played by the embedded mock, so
// `pnpm start` needs nothing else installed; core reads IDGATE_* itself.
const env = process.env;
const CHAT_VARIABLES = { baseUrl: 'IDGATE_CHAT_URL', apiKey: 'IDGATE_CHAT_API_KEY', agentId: 'IDGATE_CHAT_AGENT_ID' };
await runDemo({
  name: 'chat',
  mock: { chat: { tokenDelayMs: 80 } },
  idgate: { afterLoginUrl: '/chat' },
  needsChat: true,
  async start({ gate, upstream, address }) {
    const app = namingEnv(CHAT_VARIABLES, env, () =>
      createApp({
        idgate: gate,
        chat: {
          baseUrl: env.IDGATE_CHAT_URL ?? upstream.mock!.url,
          apiKey: env.IDGATE_CHAT_API_KEY ?? MOCK_CHAT_API_KEY,
          agentId: env.IDGATE_CHAT_AGENT_ID ?? 1,
          contact: { customAttributes: (identity) => ({ plan: identity.attributes.plan ?? null }) },
        },
        demoHint: upstream.mock !== undefined,
      }),
    );
    const server = httpServer(app);
    await listen(server, address);
    return () => server.close();
  },
});
