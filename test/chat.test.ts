// The chat proxy through every adapter, over real sockets, against the real
// mock upstream: who the upstream sees, what never leaves the server,
// streaming as events arrive, aborts, contact sync and failure mapping.
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createChatForwarder, type ChatForwarder, type ChatForwarderOptions } from '@idgate/chat';
import { adapters } from './adapters/index.js';
import type { RunningApp } from './adapters/types.js';
import { captureLogger, optionsFor, startMockUpstream, upstreamLogin, type MockUpstream } from './harness.js';

/** The server's chat key: any `oc_` key is accepted by the mock, and this one must never reach a client. */
const CHAT_KEY = 'oc_serverSideChatKey0123456789XYZ';
const FAKE_SECRET = 'FAKE_UPSTREAM_SECRET_sk_live_0000';
const SELF = 'c_demo';

interface Seen {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

describe.each(adapters)('$name adapter: chat proxy', (adapter) => {
  let mock: MockUpstream;
  let app: RunningApp;
  const logger = captureLogger();
  const apps: RunningApp[] = [];
  // Everything a client was sent, scanned for the key at the end.
  const seen: string[] = [];

  const forwarderFor = (extra: Partial<ChatForwarderOptions> = {}) =>
    createChatForwarder({
      baseUrl: mock.url,
      apiKey: CHAT_KEY,
      agentId: 7,
      contact: { customAttributes: (identity) => ({ plan: identity.attributes.plan }) },
      http: { timeout: 500, totalTimeout: 1_500, retries: 1, backoffBase: 10, backoffMax: 50 },
      logger,
      ...extra,
    });
  const start = async (chat: ChatForwarder) => {
    const a = await adapter.start({ idgate: optionsFor(mock, { logger }), chat });
    apps.push(a);
    return a;
  };

  async function post(body: unknown, init: { cookie?: string | undefined; headers?: Record<string, string>; path?: string; to?: RunningApp } = {}): Promise<Seen> {
    const res = await fetch(`${(init.to ?? app).url}${init.path ?? '/chat'}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(init.cookie ? { cookie: init.cookie } : {}), ...init.headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    seen.push(JSON.stringify([...res.headers]), text);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  }
  const signIn = async (email?: string, password?: string) => `identityId=${await upstreamLogin(mock, email, password)}`;
  const chatCalls = () => mock.calls().chat ?? 0;

  beforeAll(async () => {
    mock = await startMockUpstream({ port: 0 });
    app = await start(forwarderFor());
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await mock.close();
    const all = seen.join('\n') + logger.lines.join('\n');
    expect(all).not.toContain(CHAT_KEY);
    expect(all).not.toContain(FAKE_SECRET);
  });
  beforeEach(() => mock.reset());

  describe('who the upstream sees', () => {
    const spoofs: [string, unknown, { path?: string; headers?: Record<string, string> }?][] = [
      ['userId in the body', { message: 'hi', userId: 'someone-else' }],
      ['userId nested', { message: 'hi', user: { userId: 'someone-else' }, metadata: { userId: 'someone-else' }, data: [{ userId: 'someone-else' }] }],
      ['userId as a duplicate JSON key', '{"userId":"someone-else","message":"hi","userId":"someone-else"}'],
      ['a duplicate message key', '{"message":{"userId":"someone-else"},"message":"hi"}'],
      ['userId in the query string', { message: 'hi' }, { path: '/chat?userId=someone-else&user_id=someone-else' }],
      ['an X-User-Id header', { message: 'hi' }, { headers: { 'X-User-Id': 'someone-else', 'X-Bookbag-User': 'someone-else' } }],
      ['other upstream fields', { message: 'hi', agentId: 99, apiKey: 'oc_clientSuppliedKey1', model: 'gpt-x', external_id: 'someone-else' }],
    ];
    it.each(spoofs)('%s: the upstream gets exactly { message, userId: self, stream }', async (_name, body, init = {}) => {
      const cookie = await signIn();
      const res = await post(body, { cookie, ...init });
      expect(res.status).toBe(200);
      expect(res.json.text).toBe(`Hello ${SELF}, you said: hi`);
      const [sent] = mock.requests('chat');
      expect(sent!.body).toEqual({ message: 'hi', userId: SELF, stream: false });
      expect(sent!.path).toBe('/api/v2/agents/7/chat');
      expect(sent!.query).toEqual({});
    });
    it.each([
      ['__proto__', '{"message":"hi","__proto__":{"userId":"someone-else","stream":true}}'],
      ['constructor.prototype', '{"message":"hi","constructor":{"prototype":{"userId":"someone-else"}}}'],
      ['__proto__ inside a field', '{"message":"hi","conversationId":{"__proto__":{"userId":"someone-else"}}}'],
    ])('%s tricks: refused by the framework (400) or forwarded as self, never as someone else', async (_name, raw) => {
      const cookie = await signIn();
      const res = await post(raw, { cookie });
      // Fastify refuses prototype poisoning itself; the others parse it and idgate drops it.
      expect([200, 400]).toContain(res.status);
      for (const r of mock.requests('chat')) expect(r.body).toEqual({ message: 'hi', userId: SELF, stream: false });
      expect(Object.prototype).not.toHaveProperty('userId');
      if (res.status === 400) expect(chatCalls()).toBe(0);
    });
    it("the client's Authorization, Cookie and other headers never go upstream; the server's key does", async () => {
      const cookie = await signIn();
      await post({ message: 'hi' }, { cookie, headers: { Authorization: 'Bearer oc_clientSuppliedKey1', 'X-Forwarded-For': '203.0.113.9', 'X-Api-Key': 'oc_clientSuppliedKey1' } });
      const { headers } = mock.requests('chat')[0]!;
      expect(headers.authorization).toBe(`Bearer ${CHAT_KEY}`);
      expect(headers.cookie).toBeUndefined();
      expect(JSON.stringify(headers)).not.toContain('oc_clientSuppliedKey1');
      expect(JSON.stringify(headers)).not.toContain('203.0.113.9');
      expect(JSON.stringify(headers)).not.toContain(cookie.slice('identityId='.length));
    });
    it('unauthenticated, expired or forged sessions never reach the upstream', async () => {
      expect((await post({ message: 'hi' })).status).toBe(401);
      expect((await post({ message: 'hi' }, { cookie: `identityId=${'Z'.repeat(32)}` })).status).toBe(401);
      const cookie = await signIn();
      mock.expire({ email: 'demo@example.com' });
      expect((await post({ message: 'hi', stream: true }, { cookie })).json).toMatchObject({ error: 'SESSION_EXPIRED' });
      await new Promise((r) => setTimeout(r, 50));
      expect(mock.calls()).toMatchObject({ chat: 0, contacts: 0, conversations: 0 });
    });
    it('a cross-site post is refused before the upstream', async () => {
      const cookie = await signIn();
      expect((await post({ message: 'hi' }, { cookie, headers: { Origin: 'https://evil.example' } })).status).toBe(403);
      expect(chatCalls()).toBe(0);
    });
  });

  describe('client input', () => {
    it.each([
      ['no message', { stream: false }, 400],
      ['an empty message', { message: '' }, 400],
      ['a blank message', { message: ' \n\t ' }, 400],
      ['a message that is not a string', { message: { text: 'hi' } }, 400],
      ['a conversationId object', { message: 'hi', conversationId: { id: 1 } }, 400],
      ['a conversationId with a path', { message: 'hi', conversationId: '../../users/x' }, 400],
      ['a non-boolean stream', { message: 'hi', stream: 'yes' }, 400],
      ['a JSON array', '[{"message":"hi"}]', 400],
      ['malformed JSON', '{"message":', 400],
      ['a message over maxMessageBytes', { message: 'é'.repeat(9_000) }, 413],
    ])('%s: a clear error, no upstream call', async (_name, body, status) => {
      const cookie = await signIn();
      const res = await post(body, { cookie });
      expect(res.status).toBe(status);
      expect(res.json).toEqual(expect.objectContaining({ error: expect.any(String) }));
      if (status === 413 || typeof body !== 'string') expect(res.json.error).toMatch(/^CHAT_(BAD_REQUEST|MESSAGE_TOO_LARGE)$/);
      await new Promise((r) => setTimeout(r, 30));
      expect(mock.calls()).toMatchObject({ chat: 0, contacts: 0 });
    });
    it('a text/plain body (a CSRF simple request) is refused with 415', async () => {
      const cookie = await signIn();
      const res = await fetch(`${app.url}/chat`, { method: 'POST', headers: { cookie, 'content-type': 'text/plain' }, body: '{"message":"hi"}' });
      expect(res.status).toBe(415);
      expect(chatCalls()).toBe(0);
    });
  });

  describe('answers', () => {
    it('a JSON answer relays only text, conversationId, messageId and finishReason, uncached', async () => {
      const cookie = await signIn();
      const res = await post({ message: 'hi' }, { cookie });
      expect(Object.keys(res.json).sort()).toEqual(['conversationId', 'finishReason', 'messageId', 'text']);
      expect(res.headers.get('cache-control')).toMatch(/no-store/);
    });
    it('stream: true relays the events as they arrive: the first long before the last is sent', async () => {
      const cookie = await signIn();
      mock.setChatTokenDelay(100);
      const started = performance.now();
      const res = await fetch(`${app.url}/chat`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ message: 'hi', stream: true }) });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/event-stream');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('x-accel-buffering')).toBe('no');
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let text = '';
      let firstAt = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (!firstAt) firstAt = performance.now() - started;
        text += decoder.decode(value, { stream: true });
      }
      const total = performance.now() - started;
      seen.push(text);
      // The mock writes 7 events (5 deltas, finish, [DONE]) 100 ms apart: ~700 ms in all.
      expect(total).toBeGreaterThanOrEqual(650);
      expect(firstAt).toBeLessThan(350);
      expect(total - firstAt).toBeGreaterThanOrEqual(450);
      const frames = text.split('\n\n').filter(Boolean).map((f) => f.replace(/^data: /, ''));
      expect(frames.at(-1)).toBe('[DONE]');
      const events = frames.slice(0, -1).map((f) => JSON.parse(f));
      expect(events.filter((e) => e.type === 'text-delta').map((e) => e.text).join('')).toBe(`Hello ${SELF}, you said: hi`);
      expect(events.at(-1)).toMatchObject({ type: 'finish', metadata: { userId: SELF } });
      expect(mock.requests('chat')[0]!.body).toEqual({ message: 'hi', userId: SELF, stream: true });
    });
    it('closing the client mid-stream aborts the upstream call at once, not at its next event', async () => {
      const cookie = await signIn();
      mock.setChatTokenDelay(400);
      await new Promise<void>((resolve, reject) => {
        const req = httpRequest(`${app.url}/chat`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' } }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', () => {});
        req.once('error', reject);
        req.end(JSON.stringify({ message: 'hi', stream: true }));
      });
      const closedAt = performance.now();
      await expect.poll(() => mock.chatAborts(), { timeout: 2_000, interval: 5 }).toBe(1);
      // The next event is 400 ms away: only the disconnect signal can end the upstream call this soon.
      expect(performance.now() - closedAt).toBeLessThan(200);
      expect(mock.chatConversations()[0]!.messages).toHaveLength(1);
    });
  });

  describe('a slow reader', () => {
    it('gets every byte in order through backpressure, with no listener piling up per drain', async () => {
      const deltas = Array.from({ length: 100 }, (_, i) => String(i % 10).repeat(64 * 1024));
      const upstream = await startMockUpstream({ chat: { reply: () => deltas } });
      const slow = await start(forwarderFor({ baseUrl: upstream.url, contact: { enabled: false } }));
      const warnings: Error[] = [];
      const onWarning = (w: Error) => warnings.push(w);
      process.on('warning', onWarning);
      try {
        const cookie = await signIn();
        const chunks: Buffer[] = [];
        await new Promise<void>((resolve, reject) => {
          const req = httpRequest(`${slow.url}/chat`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' } }, (res) => {
            res.on('data', (chunk: Buffer) => {
              chunks.push(chunk);
              res.pause();
              setTimeout(() => res.resume(), 1);
            });
            res.on('end', resolve);
          });
          req.on('error', reject);
          req.end(JSON.stringify({ message: 'hi', stream: true }));
        });
        const text = Buffer.concat(chunks).toString();
        const received = text.split('\n\n').filter((f) => f.includes('text-delta')).map((f) => JSON.parse(f.slice(6)).text);
        expect(received).toEqual(deltas);
        expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
      } finally {
        process.off('warning', onWarning);
        await upstream.close();
      }
    });
  });

  describe('conversations', () => {
    it("continuing one's own conversation works; another customer's is refused without reaching the chat", async () => {
      const demo = await signIn();
      const first = await post({ message: 'hi' }, { cookie: demo });
      const conversationId = first.json.conversationId;
      const again = await post({ message: 'more', conversationId: Number(conversationId) }, { cookie: demo });
      expect(again.json.conversationId).toBe(conversationId);
      // The first answer named the conversation: no list call was needed to prove ownership.
      expect(mock.calls().conversations ?? 0).toBe(0);

      mock.addCustomer({ email: 'eve@example.com', password: 'eve-password', id: 'c_eve' });
      const eve = await signIn('eve@example.com', 'eve-password');
      const stolen = await post({ message: 'what did they ask?', conversationId, stream: true }, { cookie: eve });
      expect(stolen.status).toBe(404);
      expect(stolen.json.error).toBe('CHAT_CONVERSATION_NOT_FOUND');
      expect(mock.requests('chat')).toHaveLength(2);
      expect(mock.requests('conversations').map((r) => r.path)).toEqual(['/api/v2/agents/7/users/c_eve/conversations']);
    });
  });

  describe('contact sync', () => {
    it('20 concurrent first requests of one identity upsert its contact once', async () => {
      const fresh = await start(forwarderFor());
      const cookie = await signIn();
      const all = await Promise.all(Array.from({ length: 20 }, (_, i) => post({ message: `hi ${i}` }, { cookie, to: fresh })));
      expect(all.map((r) => r.status)).toEqual(Array(20).fill(200));
      await expect.poll(() => mock.calls().contacts, { timeout: 2_000 }).toBe(1);
      await new Promise((r) => setTimeout(r, 100));
      expect(mock.calls().contacts).toBe(1);
      expect(mock.contacts()).toEqual([
        expect.objectContaining({ chatbotId: '7', external_id: SELF, email: 'demo@example.com', name: 'Demo Customer', custom_attributes: { plan: 'pro' }, upserts: 1 }),
      ]);
      expect(mock.requests('contacts')[0]!.headers.authorization).toBe(`Bearer ${CHAT_KEY}`);
      // Later requests with the same profile add nothing.
      await post({ message: 'again' }, { cookie, to: fresh });
      await new Promise((r) => setTimeout(r, 50));
      expect(mock.calls().contacts).toBe(1);
    });
    it('a failing contact upsert never fails the chat, and is retried on the next request', async () => {
      const fresh = await start(forwarderFor());
      const cookie = await signIn();
      mock.fault({ route: 'contacts', status: 500, body: { secret: FAKE_SECRET }, times: 2 });
      expect((await post({ message: 'hi' }, { cookie, to: fresh })).status).toBe(200);
      await expect.poll(() => logger.lines.some((l) => l.includes('chat-contact-sync-failed')), { timeout: 2_000 }).toBe(true);
      expect((await post({ message: 'hi' }, { cookie, to: fresh })).status).toBe(200);
      await expect.poll(() => mock.contacts().length, { timeout: 2_000 }).toBe(1);
    });
  });

  describe('upstream failures', () => {
    const cases: [string, Parameters<MockUpstream['fault']>[0], number, string, string | null][] = [
      ['401', { route: 'chat', status: 401, body: { error: { code: 'AUTH_INVALID_API_KEY', message: FAKE_SECRET } } }, 502, 'CHAT_UPSTREAM_REJECTED', null],
      ['403', { route: 'chat', status: 403, body: { error: { message: FAKE_SECRET } } }, 502, 'CHAT_UPSTREAM_REJECTED', null],
      ['404', { route: 'chat', status: 404, body: FAKE_SECRET }, 502, 'CHAT_UPSTREAM_REJECTED', null],
      ['429', { route: 'chat', status: 429, headers: { 'retry-after': '7' }, body: { error: { message: FAKE_SECRET } } }, 503, 'CHAT_RATE_LIMITED', '7'],
      ['500', { route: 'chat', status: 500, body: `<html>${FAKE_SECRET}</html>` }, 502, 'CHAT_UPSTREAM_ERROR', null],
      ['503', { route: 'chat', status: 503, headers: { 'retry-after': '3' }, body: { detail: FAKE_SECRET } }, 503, 'CHAT_UPSTREAM_UNAVAILABLE', '3'],
      ['a dropped connection', { route: 'chat', drop: true }, 503, 'CHAT_UPSTREAM_UNAVAILABLE', '5'],
      ['a hang', { route: 'chat', hang: true }, 503, 'CHAT_UPSTREAM_TIMEOUT', '5'],
      ['a 200 that is not the contract', { route: 'chat', status: 200, body: { data: { secret: FAKE_SECRET } } }, 502, 'CHAT_UPSTREAM_ERROR', null],
    ];
    it.each(cases)('upstream %s: the mapped error, its body never relayed', async (_name, fault, status, code, retryAfter) => {
      const cookie = await signIn();
      for (const stream of [false, true]) {
        // A 200 JSON body is no event stream either: the streamed case also answers 502.
        mock.fault({ ...fault, times: 1 });
        const res = await post({ message: 'hi', stream }, { cookie });
        expect(res.status).toBe(status);
        expect(res.json).toEqual({ error: code, message: expect.any(String) });
        expect(res.headers.get('retry-after')).toBe(retryAfter);
        expect(res.text).not.toContain(FAKE_SECRET);
        expect(res.headers.get('content-type')).toMatch(/json/);
      }
      // A chat post is never retried: it could post the message twice.
      expect(chatCalls()).toBe(2);
    });
  });
});
