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
  const lines = [`idgate chat demo: http://${host === '127.0.0.1' ? 'localhost' : host}:${port}`];
  if (mock) lines.push(`embedded mock upstream: ${mock.url}`, 'demo account: demo@example.com (pass: demo-password)');
  process.stdout.write(`${lines.join('\n')}\n`);
});
const stop = () => {
  server.close();
  void mock?.close();
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
