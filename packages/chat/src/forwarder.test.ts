import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createIdentity, type EndpointResult, type Identity, type IdentityRequest, type Logger, type StreamResult } from '@idgate/core/adapter';
import { MOCK_CHAT_API_KEY, startMockUpstream, type MockUpstream } from '@idgate/mock-upstream';
import { ChatError, createChatForwarder, type ChatForwarderOptions, type ChatStore } from './index.js';

const identity = (id = 'c_demo', extra: Partial<{ email: string; name: string; attributes: Record<string, unknown> }> = {}): Identity =>
  createIdentity({ id, email: extra.email ?? 'demo@example.com', name: extra.name ?? 'Demo', attributes: extra.attributes ?? { plan: 'pro' } }, Date.now(), 'A'.repeat(32));
const request: IdentityRequest = { method: 'POST', url: '/chat', headers: {}, ip: '127.0.0.1', protocol: 'http', cookies: {} } as unknown as IdentityRequest;

function captureLogger(): Logger & { lines: { level: string; obj: object; msg?: string | undefined }[] } {
  const lines: { level: string; obj: object; msg?: string | undefined }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, obj, msg });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

async function collect(result: EndpointResult): Promise<string[]> {
  expect(result.kind).toBe('stream');
  const out: string[] = [];
  for await (const chunk of (result as StreamResult).body) out.push(String(chunk));
  return out;
}

/** A fetch answering a stream made of these chunks, then `end` (close or an error). */
function streamingFetch(chunks: string[], end: 'close' | 'error' | 'hang' = 'close', seen: { signal?: AbortSignal } = {}): typeof fetch {
  return (async (_url: string | URL | Request, init?: RequestInit) => {
    seen.signal = init!.signal!;
    const encoder = new TextEncoder();
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (i < chunks.length) return controller.enqueue(encoder.encode(chunks[i++]!));
        if (end === 'close') return controller.close();
        if (end === 'error') return controller.error(new TypeError('terminated'));
        // 'hang': never enqueue again; an abort of the fetch signal errors the stream, as undici does.
        return new Promise<void>((resolve) => {
          init!.signal!.addEventListener('abort', () => {
            controller.error(init!.signal!.reason);
            resolve();
          });
        });
      },
    });
    return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
  }) as typeof fetch;
}

describe('createChatForwarder against the mock', () => {
  let mock: MockUpstream;
  const logger = captureLogger();
  const make = (extra: Partial<ChatForwarderOptions> = {}) =>
    createChatForwarder({ baseUrl: mock.url, apiKey: MOCK_CHAT_API_KEY, agentId: 7, logger, http: { timeout: 1_000, retries: 1, backoffBase: 5, backoffMax: 10 }, ...extra });
  const handle = (f: ReturnType<typeof make>, body: Record<string, unknown>, who = identity(), signal = new AbortController().signal) =>
    f.endpoint().handle({ identity: who, request, body, signal });

  beforeAll(async () => {
    mock = await startMockUpstream();
  });
  beforeEach(() => mock.reset());
  afterAll(() => mock.close());

  it('answers JSON with the chosen fields; the upstream gets the identity as userId and the server key', async () => {
    const result = await handle(make(), { message: 'hi', userId: 'mallory' });
    expect(result).toMatchObject({ kind: 'respond', statusCode: 200, body: { text: 'Hello c_demo, you said: hi', conversationId: '1', messageId: expect.any(String), finishReason: 'stop' } });
    const [sent] = mock.requests('chat');
    expect(sent!.body).toEqual({ message: 'hi', userId: 'c_demo', stream: false });
    expect(sent!.headers.authorization).toBe(`Bearer ${MOCK_CHAT_API_KEY}`);
  });
  it('a userId option that breaks the pattern is hashed; one that returns nothing is a server bug, not a shared id', async () => {
    await handle(make({ userId: (id) => id.email }), { message: 'hi' });
    expect(mock.requests('chat')[0]!.body).toMatchObject({ userId: expect.stringMatching(/^u_[A-Za-z0-9_-]{32}$/) });
    expect(JSON.stringify(mock.requests())).not.toContain('demo@example.com');
    await expect(handle(make({ userId: () => undefined as unknown as string }), { message: 'hi' })).rejects.toThrow(TypeError);
    expect(mock.calls().chat).toBe(1);
  });
  it('streams: the upstream body passes through event by event', async () => {
    const chunks = await collect(await handle(make(), { message: 'hi', stream: true }));
    expect(chunks.join('')).toMatch(/^data: \{"type":"text-delta","text":"Hello "\}\n\n[\s\S]*data: \[DONE\]\n\n$/);
    expect(chunks.length).toBeGreaterThanOrEqual(1);
  });
  it('an upstream that refuses before streaming is a ChatError, never a stream', async () => {
    mock.fault({ route: 'chat', status: 429, headers: { 'retry-after': '9' }, body: 'secret', times: 1 });
    const err = await handle(make(), { message: 'hi', stream: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChatError);
    expect(err).toMatchObject({ code: 'CHAT_RATE_LIMITED', status: 503, retryAfter: 9 });
    expect((err as Error).message).not.toContain('secret');
  });
  it('an answer larger than http.maxBodyBytes is refused', async () => {
    mock.fault({ route: 'chat', status: 200, bodyBytes: 5_000, times: 1 });
    await expect(handle(make({ http: { maxBodyBytes: 1_000 } }), { message: 'hi' })).rejects.toMatchObject({ code: 'CHAT_UPSTREAM_ERROR', status: 502 });
  });

  describe('conversation ownership', () => {
    it("remembers conversations it saw created (JSON and stream) and refuses another customer's", async () => {
      const f = make();
      const { body } = (await handle(f, { message: 'one' })) as unknown as { body: { conversationId: string } };
      const streamed = (await collect(await handle(f, { message: 'two', stream: true }))).join('');
      const streamedId = /"conversationId":"(\d+)"/.exec(streamed)![1]!;
      await handle(f, { message: 'three', conversationId: body.conversationId });
      await collect(await handle(f, { message: 'four', conversationId: Number(streamedId), stream: true }));
      expect(mock.calls()).toMatchObject({ chat: 4, conversations: 0 });
      await expect(handle(f, { message: 'peek', conversationId: body.conversationId }, identity('c_eve'))).rejects.toMatchObject({ code: 'CHAT_CONVERSATION_NOT_FOUND', status: 404 });
      expect(mock.calls()).toMatchObject({ chat: 4, conversations: 1 });
    });
    it('a fresh instance proves ownership from the upstream list, once per customer', async () => {
      await handle(make(), { message: 'one' });
      const other = make();
      await handle(other, { message: 'again', conversationId: '1' });
      await handle(other, { message: 'and again', conversationId: '1' });
      expect(mock.requests('conversations').map((r) => r.path)).toEqual(['/api/v2/agents/7/users/c_demo/conversations']);
      expect(mock.requests('conversations')[0]!.query).toEqual({ limit: '100' });
    });
    it('verifyConversations: false trusts the upstream, which (like Bookbag) lets anyone continue any conversation', async () => {
      await handle(make(), { message: 'one' });
      const res = await handle(make({ verifyConversations: false }), { message: 'peek', conversationId: '1' }, identity('c_eve'));
      expect(res).toMatchObject({ kind: 'respond', body: { conversationId: '1' } });
    });
  });

  describe('listConversations', () => {
    it("lists the signed-in customer's conversations only, as the endpoint too", async () => {
      const f = make();
      await handle(f, { message: 'mine' });
      await handle(f, { message: 'theirs' }, identity('c_eve'));
      const page = await f.listConversations(identity());
      expect(page).toEqual({ conversations: [{ id: '1', title: 'mine', createdAt: expect.any(Number), updatedAt: expect.any(Number), messageCount: 2 }], cursor: null, hasMore: false });
      const viaEndpoint = await f.endpoint({ action: 'conversations' }).handle({ identity: identity('c_eve'), request, body: { limit: 5 }, signal: new AbortController().signal });
      expect(viaEndpoint).toMatchObject({ kind: 'respond', body: { conversations: [{ title: 'theirs' }] } });
      expect(mock.requests('conversations').at(-1)!.query).toEqual({ limit: '5' });
    });
    it('validates paging and maps upstream failures', async () => {
      const f = make();
      await expect(f.listConversations(identity(), { limit: 500 })).rejects.toMatchObject({ code: 'CHAT_BAD_REQUEST', status: 400 });
      mock.fault({ route: 'conversations', status: 401, times: 1 });
      await expect(f.listConversations(identity())).rejects.toMatchObject({ code: 'CHAT_UPSTREAM_REJECTED', status: 502 });
      mock.fault({ route: 'conversations', status: 200, body: { data: 'nope' }, times: 1 });
      await expect(f.listConversations(identity())).rejects.toMatchObject({ code: 'CHAT_UPSTREAM_ERROR' });
      expect(() => f.endpoint({ action: 'nope' as 'chat' })).toThrow(TypeError);
    });
  });

  describe('contact sync', () => {
    const contactOptions = { customAttributes: (id: Identity) => ({ plan: id.attributes.plan }) };
    it('upserts on first sight, again only when the profile changes', async () => {
      const f = make({ contact: contactOptions });
      await f.syncContact(identity());
      await f.syncContact(identity());
      expect(mock.calls().contacts).toBe(1);
      expect(mock.requests('contacts')[0]!.body).toEqual({ users: [{ external_id: 'c_demo', email: 'demo@example.com', name: 'Demo', custom_attributes: { plan: 'pro' } }] });
      await f.syncContact(identity('c_demo', { attributes: { plan: 'enterprise' } }));
      await f.syncContact(identity('c_demo', { name: 'Demo Renamed', attributes: { plan: 'enterprise' } }));
      expect(mock.calls().contacts).toBe(3);
      expect(mock.contacts()[0]).toMatchObject({ name: 'Demo Renamed', custom_attributes: { plan: 'enterprise' }, upserts: 3 });
    });
    it('a shared store deduplicates across instances; a failing store is a miss', async () => {
      const map = new Map<string, string>();
      const store: ChatStore = { get: async (k) => map.get(k), set: async (k, v) => void map.set(k, v) };
      await make({ contact: contactOptions, store }).syncContact(identity());
      await make({ contact: contactOptions, store }).syncContact(identity());
      expect(mock.calls().contacts).toBe(1);
      expect([...map.keys()][0]).toMatch(/^idgate:chat:contact:7:/);
      expect([...map.keys()][0]).not.toContain('c_demo');
      const broken: ChatStore = { get: () => Promise.reject(new Error('down')), set: () => Promise.reject(new Error('down')) };
      await make({ contact: contactOptions, store: broken }).syncContact(identity());
      expect(mock.calls().contacts).toBe(2);
    });
    it('never blocks or fails the chat: a failing upsert or attribute function is logged and retried next time', async () => {
      let calls = 0;
      const f = make({
        contact: {
          customAttributes: () => {
            if (++calls === 1) throw new Error('attributes broke');
            return { plan: 'pro' };
          },
        },
      });
      const started = Date.now();
      await handle(f, { message: 'one' });
      // Slow, then failing on both attempts: the chat answers long before.
      mock.fault({ route: 'contacts', latencyMs: 300, status: 500, body: { secret: 'leak' }, times: 2 });
      await handle(f, { message: 'two' });
      expect(Date.now() - started).toBeLessThan(250);
      await expect.poll(() => logger.lines.filter((l) => (l.obj as { event?: string }).event === 'chat-contact-sync-failed').length, { timeout: 3_000 }).toBe(2);
      await handle(f, { message: 'three' });
      await expect.poll(() => mock.contacts().length, { timeout: 2_000 }).toBe(1);
      expect(JSON.stringify(logger.lines)).not.toContain(MOCK_CHAT_API_KEY);
    });
    it('syncContact without the contact option says so', async () => {
      await expect(make().syncContact(identity())).rejects.toThrow(/contact sync is off/);
    });
  });
});

describe('the stream relay', () => {
  const forwarder = (fetchImpl: typeof fetch, logger?: Logger) =>
    createChatForwarder({ baseUrl: 'http://127.0.0.1:9', apiKey: MOCK_CHAT_API_KEY, agentId: 1, fetch: fetchImpl, http: { timeout: 150 }, ...(logger ? { logger } : {}) });
  const open = (fetchImpl: typeof fetch, signal = new AbortController().signal, logger?: Logger) =>
    forwarder(fetchImpl, logger).endpoint().handle({ identity: identity(), request, body: { message: 'hi', stream: true }, signal });

  it('passes whole events only, however the upstream splits them', async () => {
    const chunks = await collect(await open(streamingFetch(['data: {"type":"text-delta","te', 'xt":"a"}\n\ndata: {"type":', '"text-delta","text":"b"}\n\n', 'data: [DO', 'NE]\n\n'])));
    expect(chunks).toEqual(['data: {"type":"text-delta","text":"a"}\n\n', 'data: {"type":"text-delta","text":"b"}\n\n', 'data: [DONE]\n\n']);
  });
  it('understands CRLF event boundaries and passes a trailing partial event at a clean end', async () => {
    const chunks = await collect(await open(streamingFetch(['data: a\r\n\r\ndata: b\r\n', '\r\ndata: c'])));
    expect(chunks).toEqual(['data: a\r\n\r\n', 'data: b\r\n\r\n', 'data: c']);
  });
  it('an upstream failure mid-stream ends with an error frame and [DONE], never half an event', async () => {
    const logger = captureLogger();
    const chunks = await collect(await open(streamingFetch(['data: {"type":"text-delta","text":"a"}\n\ndata: {"type":"text-de'], 'error'), undefined, logger));
    expect(chunks).toEqual([
      'data: {"type":"text-delta","text":"a"}\n\n',
      `data: ${JSON.stringify({ type: 'error', errorText: 'The chat service is unreachable. Try again shortly.', code: 'CHAT_UPSTREAM_UNAVAILABLE' })}\n\ndata: [DONE]\n\n`,
    ]);
    expect(logger.lines).toEqual([{ level: 'warn', obj: { event: 'chat-stream-failed', code: 'CHAT_UPSTREAM_UNAVAILABLE' }, msg: expect.any(String) }]);
  });
  it('a silent upstream times out between events into an error frame', async () => {
    const seen: { signal?: AbortSignal } = {};
    const chunks = await collect(await open(streamingFetch(['data: x\n\n'], 'hang', seen)));
    expect(chunks.at(-1)).toContain('"code":"CHAT_UPSTREAM_TIMEOUT"');
    expect(seen.signal!.aborted).toBe(true);
  });
  it('a client that leaves ends the stream quietly and aborts the upstream request', async () => {
    const client = new AbortController();
    const seen: { signal?: AbortSignal } = {};
    const result = (await open(streamingFetch(['data: x\n\n'], 'hang', seen), client.signal)) as StreamResult;
    const it = result.body[Symbol.asyncIterator]();
    expect((await it.next()).value).toBe('data: x\n\n');
    const next = it.next();
    client.abort();
    expect(await next).toEqual({ done: true, value: undefined });
    expect(seen.signal!.aborted).toBe(true);
  });
  it('a consumer that stops early (the writer saw the client go) also aborts the upstream request', async () => {
    const seen: { signal?: AbortSignal } = {};
    const result = (await open(streamingFetch(['data: x\n\n', 'data: y\n\n'], 'hang', seen))) as StreamResult;
    for await (const _chunk of result.body) break;
    expect(seen.signal!.aborted).toBe(true);
  });
  it('a 200 that is not an event stream is a 502, and a refused connection a 503', async () => {
    const json = (async () => new Response('{"data":{}}', { status: 200, headers: { 'content-type': 'application/json' } })) as typeof fetch;
    await expect(open(json)).rejects.toMatchObject({ code: 'CHAT_UPSTREAM_ERROR', status: 502 });
    const refused = (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch;
    await expect(open(refused)).rejects.toMatchObject({ code: 'CHAT_UPSTREAM_UNAVAILABLE', status: 503 });
  });
});
