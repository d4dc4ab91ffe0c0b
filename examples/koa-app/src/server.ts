import { startMockUpstream } from '@idgate/mock-upstream';
import { createApp } from './app.js';

// With no upstream configured, run against the embedded mock so the demo
// needs nothing else installed.
const DEMO_API_KEY = 'DEV_' + 'demoDemoDemoDemoDemoDemoDemo';
let upstreamUrl = process.env.IDGATE_UPSTREAM_URL;
let mock: Awaited<ReturnType<typeof startMockUpstream>> | undefined;
if (!upstreamUrl) {
  mock = await startMockUpstream({ port: 0 });
  upstreamUrl = mock.url;
}
const app = createApp({ upstreamUrl, apiKey: process.env.IDGATE_API_KEY ?? DEMO_API_KEY });
const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';
const server = app.listen(port, host, () => {
  console.log(`idgate Koa demo: http://${host === '127.0.0.1' ? 'localhost' : host}:${port}`);
  if (mock) {
    console.log(`embedded mock upstream: ${mock.url}`);
    console.log('sign in with demo@example.com / demo-password (also: banned@example.com, unverified@example.com)');
  }
});
const stop = () => {
  server.close();
  void mock?.close();
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
