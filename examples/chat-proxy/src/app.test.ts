import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MOCK_CHAT_API_KEY, startMockUpstream, type MockUpstream } from '@idgate/mock-upstream';
import { createApp } from './app.js';

let mock: MockUpstream;
let server: Server;
let url: string;
beforeAll(async () => {
  mock = await startMockUpstream({ port: 0 });
  const app = createApp({
    idgate: { upstreamUrl: mock.url, apiKey: 'DEV_' + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4' },
    chat: { baseUrl: mock.url, apiKey: MOCK_CHAT_API_KEY, agentId: 1, contact: {} },
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await mock.close();
});

it('signs in with the form, shows the chat box, streams an answer as the signed-in customer, lists the conversation', async () => {
  expect((await fetch(`${url}/chat/conversations`)).status).toBe(401);
  const login = await fetch(`${url}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'email=demo%40example.com&password=demo-password&returnTo=%2Fchat',
  });
  expect(login.status).toBe(303);
  expect(login.headers.get('location')).toBe('/chat');
  const cookie = login.headers.get('set-cookie')!.split(';')[0]!;

  const page = await (await fetch(`${url}/chat`, { headers: { cookie } })).text();
  expect(page).toContain('id="send"');
  expect(page).toContain('Demo Customer');
  expect(page).toContain('getReader()');

  const res = await fetch(`${url}/chat`, { method: 'POST', headers: { cookie, 'content-type': 'application/json', origin: url }, body: JSON.stringify({ message: 'hi', stream: true, userId: 'x' }) });
  expect(res.headers.get('content-type')).toBe('text/event-stream');
  expect(await res.text()).toContain('"text":"c_demo, "');
  expect(mock.requests('chat')[0]!.body).toEqual({ message: 'hi', userId: 'c_demo', stream: true });

  const list = await (await fetch(`${url}/chat/conversations`, { headers: { cookie } })).json();
  expect(list).toMatchObject({ conversations: [{ id: '1', title: 'hi' }], hasMore: false });
  await expect.poll(() => mock.contacts().map((c) => c.external_id)).toEqual(['c_demo']);
});
