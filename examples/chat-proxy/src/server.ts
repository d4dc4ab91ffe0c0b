import { MOCK_CHAT_API_KEY, startMockUpstream } from '@idgate/mock-upstream';
import { createApp } from './app.js';

// Whatever upstream is not configured is played by the embedded mock, so
// `pnpm start` needs nothing else installed.
const DEMO_API_KEY = 'DEV_' + 'demoDemoDemoDemoDemoDemoDemo';
const env = process.env;
const mock = !env.IDGATE_UPSTREAM_URL || !env.IDGATE_CHAT_URL ? await startMockUpstream({ port: 0, chat: { tokenDelayMs: 80 } }) : undefined;
const app = createApp({
  idgate: { upstreamUrl: env.IDGATE_UPSTREAM_URL ?? mock!.url, apiKey: env.IDGATE_API_KEY ?? DEMO_API_KEY },
  chat: {
    baseUrl: env.IDGATE_CHAT_URL ?? mock!.url,
    apiKey: env.IDGATE_CHAT_API_KEY ?? MOCK_CHAT_API_KEY,
    agentId: env.IDGATE_CHAT_AGENT_ID ?? 1,
    contact: { customAttributes: (identity) => ({ plan: identity.attributes.plan ?? null }) },
  },
});
const port = Number(env.PORT ?? 3000);
const host = env.HOST ?? '127.0.0.1';
const server = app.listen(port, host, () => {
  console.log(`idgate chat demo: http://${host === '127.0.0.1' ? 'localhost' : host}:${port}`);
  if (mock) {
    console.log(`embedded mock upstream: ${mock.url}`);
    console.log('sign in with demo@example.com / demo-password');
  }
});
const stop = () => {
  server.close();
  void mock?.close();
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
