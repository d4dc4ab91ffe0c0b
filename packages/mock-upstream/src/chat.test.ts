import { request as httpRequest } from 'node:http';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { MOCK_CHAT_API_KEY, startMockUpstream } from './index.js';
import type { MockUpstream } from './index.js';

const CHAT = '/api/v2/agents/7/chat';
const CONTACTS = '/api/v1/chatbots/7/contacts';
const conversationsOf = (userId: string, query = '') => `/api/v2/agents/7/users/${userId}/conversations${query}`;
const AUTH = { authorization: `Bearer ${MOCK_CHAT_API_KEY}` };

let mock: MockUpstream;
beforeEach(async () => {
  mock ??= await startMockUpstream({ port: 0 });
  mock.reset();
});
afterAll(() => mock.close());

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = AUTH) {
  const res = await fetch(mock.url + path, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** SSE `data:` payloads of a body. */
const frames = (text: string) => text.split('\n\n').filter(Boolean).map((f) => f.replace(/^data: /, ''));

describe('chat: keys', () => {
  it('needs a Bearer key of the documented format', async () => {
    expect((await call('POST', CHAT, { message: 'hi', stream: false }, {})).json).toEqual({ error: { code: 'AUTH_MISSING_API_KEY', message: 'Missing API key.' } });
    const bad = await call('POST', CHAT, { message: 'hi', stream: false }, { authorization: 'Bearer sk_live_nope' });
    expect(bad.status).toBe(401);
    expect(bad.json.error.code).toBe('AUTH_INVALID_API_KEY');
    expect((await call('POST', CHAT, { message: 'hi', stream: false })).status).toBe(200);
    expect((await call('POST', CHAT, { message: 'hi', stream: false }, { authorization: 'Bearer oc_anyOtherKey123' })).status).toBe(200);
  });
  it('honours an allow-list, and refuses a malformed one at start', async () => {
    const strict = await startMockUpstream({ chat: { apiKeys: ['oc_onlyThisKey01'] } });
    try {
      const post = (key: string) => fetch(`${strict.url}${CHAT}`, { method: 'POST', headers: { authorization: `Bearer ${key}` }, body: '{"message":"hi","stream":false}' });
      expect((await post(MOCK_CHAT_API_KEY)).status).toBe(401);
      expect((await post('oc_onlyThisKey01')).status).toBe(200);
    } finally {
      await strict.close();
    }
    await expect(startMockUpstream({ chat: { apiKeys: ['nope'] } })).rejects.toThrow(/chat\.apiKeys/);
    await expect(startMockUpstream({ chat: { tokenDelayMs: -1 } })).rejects.toThrow(/chat\.tokenDelayMs/);
  });
});

describe('chat: JSON answers', () => {
  it('echoes the userId it received, creates a conversation and records the call', async () => {
    const res = await call('POST', CHAT, { message: 'Where is my order?', userId: 'user_8821', stream: false });
    expect(res.status).toBe(200);
    expect(res.json.data).toMatchObject({ text: 'Hello user_8821, you said: Where is my order?', conversationId: '1', userId: 'user_8821', finishReason: 'stop' });
    expect(mock.calls()).toMatchObject({ chat: 1, total: 1 });
    expect(mock.requests('chat')[0]!.body).toEqual({ message: 'Where is my order?', userId: 'user_8821', stream: false });
    expect(mock.chatConversations()).toEqual([
      expect.objectContaining({ id: '1', agentId: '7', userId: 'user_8821', messages: [{ role: 'user', text: 'Where is my order?' }, { role: 'assistant', text: res.json.data.text }] }),
    ]);
  });
  it('continues a conversation by id, keeping its userId (a later userId is ignored, as Bookbag does)', async () => {
    const first = await call('POST', CHAT, { message: 'one', userId: 'alice', stream: false });
    const id = first.json.data.conversationId;
    const second = await call('POST', CHAT, { message: 'two', userId: 'mallory', conversationId: Number(id), stream: false });
    expect(second.json.data).toMatchObject({ conversationId: id, userId: 'alice', text: 'Hello mallory, you said: two' });
    expect(mock.chatConversations()[0]!.messages).toHaveLength(4);
    expect((await call('POST', CHAT, { message: 'x', conversationId: '999', stream: false })).status).toBe(404);
    expect((await call('POST', '/api/v2/agents/8/chat', { message: 'x', conversationId: id, stream: false })).json.error.code).toBe('RESOURCE_NOT_FOUND');
  });
  it('validates the body like Bookbag', async () => {
    for (const body of ['{"message":', '[]', { message: '   ' }, { message: 'hi', userId: 'a b' }, { message: 'hi', userId: 'x'.repeat(129) }, { message: 'hi', stream: 'yes' }]) {
      const res = await call('POST', CHAT, body);
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe('VALIDATION_INVALID_BODY');
    }
  });
});

describe('chat: streams', () => {
  it('streams text-deltas, a finish frame with metadata, then [DONE], by default', async () => {
    const res = await call('POST', CHAT, { message: 'hi', userId: 'u1' });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const parts = frames(res.text);
    expect(parts.at(-1)).toBe('[DONE]');
    const events = parts.slice(0, -1).map((p) => JSON.parse(p));
    expect(events.filter((e) => e.type === 'text-delta').map((e) => e.text).join('')).toBe('Hello u1, you said: hi');
    expect(events.at(-1)).toEqual({ type: 'finish', finishReason: 'stop', metadata: expect.objectContaining({ conversationId: '1', userId: 'u1', usage: { credits: 1 } }) });
    expect(mock.chatAborts()).toBe(0);
  });
  it('waits tokenDelayMs before each event, so events arrive spread out', async () => {
    mock.setChatTokenDelay(60);
    const started = performance.now();
    const res = await fetch(mock.url + CHAT, { method: 'POST', headers: AUTH, body: JSON.stringify({ message: 'hi' }) });
    const reader = res.body!.getReader();
    const first = await reader.read();
    const firstAt = performance.now() - started;
    while (!(await reader.read()).done);
    const total = performance.now() - started;
    expect(new TextDecoder().decode(first.value)).toMatch(/^data: \{"type":"text-delta"/);
    // 5 deltas + finish + [DONE] = 7 events, 60 ms before each.
    expect(total).toBeGreaterThanOrEqual(7 * 60 - 20);
    expect(firstAt).toBeLessThan(total - 200);
  });
  it('counts a client that leaves mid-stream as an abort', async () => {
    mock.setChatTokenDelay(50);
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(`${mock.url}${CHAT}`, { method: 'POST', headers: AUTH }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => {});
      req.once('error', reject);
      req.end(JSON.stringify({ message: 'hi' }));
    });
    await expect.poll(() => mock.chatAborts(), { timeout: 2_000 }).toBe(1);
    expect(mock.chatConversations()[0]!.messages).toHaveLength(1);
  });
  it('the delay is settable over HTTP and reset restores the option', async () => {
    expect((await call('POST', '/__mock/chat', { tokenDelayMs: 25 }, {})).json).toEqual({ ok: true, tokenDelayMs: 25 });
    expect((await call('GET', '/__mock/chat', undefined, {})).json).toMatchObject({ tokenDelayMs: 25, aborts: 0, conversations: [] });
    expect((await call('POST', '/__mock/chat', { tokenDelayMs: -5 }, {})).status).toBe(400);
    expect((await call('POST', '/__mock/chat', {}, {})).status).toBe(400);
    mock.reset();
    expect((await call('GET', '/__mock/chat', undefined, {})).json.tokenDelayMs).toBe(0);
  });
  it('fault injection and counters apply to the chat routes', async () => {
    mock.fault({ route: 'chat', status: 429, headers: { 'retry-after': '7' }, times: 1 });
    const res = await call('POST', CHAT, { message: 'hi' });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(() => mock.fault({ route: 'contacts', latencyMs: 1 })).not.toThrow();
    mock.clearFaults();
    expect(mock.calls()).toMatchObject({ chat: 1, contacts: 0, conversations: 0 });
  });
});

describe('contacts', () => {
  it('upserts by external_id per chatbot, keeping fields an update leaves out', async () => {
    const first = await call('POST', CONTACTS, { users: [{ external_id: 'user_8821', email: 'sam@acme.com', name: 'Sam', custom_attributes: { plan: 'pro' } }] });
    expect(first.status).toBe(200);
    expect(first.json).toEqual({
      message: 'Contacts created/updated',
      data: [expect.objectContaining({ id: 'contact_1', external_id: 'user_8821', email: 'sam@acme.com', name: 'Sam', custom_attributes: { plan: 'pro' }, stripe_accounts: [] })],
    });
    await call('POST', CONTACTS, { users: [{ external_id: 'user_8821', custom_attributes: { ltv: 540 } }] });
    await call('POST', '/api/v1/chatbots/8/contacts', { users: [{ external_id: 'user_8821' }] });
    expect(mock.contacts('7')).toEqual([
      expect.objectContaining({ external_id: 'user_8821', email: 'sam@acme.com', name: 'Sam', custom_attributes: { plan: 'pro', ltv: 540 }, upserts: 2 }),
    ]);
    expect(mock.contacts()).toHaveLength(2);
    expect((await call('GET', '/__mock/contacts?chatbotId=8', undefined, {})).json).toEqual([expect.objectContaining({ chatbotId: '8', upserts: 1 })]);
  });
  it('answers Bookbag v1 errors', async () => {
    expect((await call('POST', CONTACTS, { users: [] })).json).toEqual({ message: 'Invalid request data' });
    // The Bookbag identity guide documents `users` only.
    expect((await call('POST', CONTACTS, { contacts: [{ external_id: 'a' }] })).json).toEqual({ message: 'Invalid request data' });
    expect((await call('POST', CONTACTS, { users: [{ email: 42 }] })).status).toBe(400);
    expect((await call('POST', CONTACTS, { users: Array.from({ length: 1001 }, () => ({})) })).json).toEqual({ message: 'Maximum 1000 contacts per request' });
    expect((await call('POST', CONTACTS, { users: [{ external_id: 'a' }] }, {})).status).toBe(401);
    expect(mock.contacts()).toEqual([]);
  });
});

describe('conversations', () => {
  it("lists one user's conversations of one agent, newest first, with a cursor", async () => {
    for (const [userId, message] of [['alice', 'a1'], ['bob', 'b1'], ['alice', 'a2'], ['alice', 'a3']]) {
      await call('POST', CHAT, { message, userId, stream: false });
    }
    const page1 = await call('GET', conversationsOf('alice', '?limit=2'));
    expect(page1.json.data.map((c: { title: string }) => c.title)).toEqual(['a3', 'a2']);
    expect(page1.json.data[0]).toEqual({ id: expect.any(String), userId: 'alice', title: 'a3', createdAt: expect.any(Number), updatedAt: expect.any(Number), messageCount: 2 });
    expect(page1.json.pagination).toEqual({ cursor: expect.any(String), hasMore: true, total: 3 });
    const page2 = await call('GET', conversationsOf('alice', `?limit=2&cursor=${page1.json.pagination.cursor}`));
    expect(page2.json.data.map((c: { title: string }) => c.title)).toEqual(['a1']);
    expect(page2.json.pagination).toEqual({ cursor: null, hasMore: false, total: 3 });
    expect((await call('GET', conversationsOf('carol'))).json).toEqual({ data: [], pagination: { cursor: null, hasMore: false, total: 0 } });
    expect(mock.calls()).toMatchObject({ conversations: 3 });
  });
  it('validates the key, the userId and the paging', async () => {
    expect((await call('GET', conversationsOf('alice'), undefined, {})).status).toBe(401);
    expect((await call('GET', conversationsOf('a%20b'))).status).toBe(400);
    expect((await call('GET', conversationsOf('alice', '?limit=0'))).status).toBe(400);
    expect((await call('GET', conversationsOf('alice', '?cursor=!!'))).status).toBe(400);
  });
});
