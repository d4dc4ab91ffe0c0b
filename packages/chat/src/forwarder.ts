import { PRIVATE_HEADERS, UpstreamError, readCappedBody, timeUpstreamCall, type EndpointInput, type EndpointResult, type EndpointSource, type Identity, type IdentityEndpoint } from '@idgate/core/adapter';
import { z } from 'zod';
import { upstreamCall } from './call.js';
import { createContactSync } from './contacts.js';
import { createConversations, type ConversationPage, type ListOptions } from './conversations.js';
import { badResponse, toChatError, upstreamStatusError } from './errors.js';
import { parseChatInput, type ChatInput } from './message.js';
import { resolveChatConfig, type ChatForwarderOptions } from './options.js';
import { relayEvents, SSE_HEADERS } from './stream.js';
import { chatUserId } from './userId.js';

/**
 * What `endpoint()` serves: the chat itself, or the customer's conversation list.
 * @example const list = forwarder.endpoint({ action: 'conversations' }); // an IdentityEndpoint answering { conversations, cursor, hasMore }
 */
export interface ChatEndpointOptions {
  /** @default 'chat' */
  action?: 'chat' | 'conversations';
}

/**
 * A non-streamed answer, as relayed to the client.
 * @example { text: 'Your order shipped yesterday.', conversationId: '456', messageId: 'msg_789', finishReason: 'stop' }
 */
export interface ChatReply {
  text: string;
  conversationId: string;
  messageId?: string;
  finishReason?: string;
}

/**
 * Forwards chat requests as the verified identity. Give it to an adapter's
 * `chatProxy()`, or call its methods yourself.
 * @example app.post('/chat', requireIdentity(), chatProxy(forwarder));
 */
export interface ChatForwarder extends EndpointSource<ChatEndpointOptions> {
  /** The core endpoint every adapter's `chatProxy(forwarder)` runs. */
  endpoint(options?: ChatEndpointOptions): IdentityEndpoint;
  /** The signed-in customer's conversations (their userId only). */
  listConversations(identity: Identity, options?: ListOptions): Promise<ConversationPage>;
  /** The upstream `userId` of an identity. */
  userIdOf(identity: Identity): string;
  /** Upsert the identity as a contact now, deduplicated like the background sync; resolves when done. */
  syncContact(identity: Identity): Promise<void>;
}

// Bookbag's non-streamed answer; idgate's reading of it (Bookbag's documentation leaves the shape open) is the mock's.
const answer = z.object({
  data: z.object({
    text: z.string(),
    conversationId: z.union([z.string().min(1), z.number()]).transform(String),
    messageId: z.union([z.string(), z.number()]).transform(String).optional(),
    finishReason: z.string().optional(),
  }),
});

/**
 * Create a chat forwarder for a Bookbag-compatible API. The upstream
 * `userId` comes only from the verified identity; the client's body is
 * reduced to `message`, `conversationId` and `stream`; the Bearer key never
 * leaves the server; `stream: true` relays server-sent events as they arrive
 * and a client disconnect aborts the upstream call.
 * @example
 * const forwarder = createChatForwarder({ baseUrl: 'https://app.bookbag.ai', apiKey: process.env.BOOKBAG_API_KEY!, agentId: 123 });
 * app.post('/chat', requireIdentity(), chatProxy(forwarder));
 * @example
 * createChatForwarder({ baseUrl, apiKey, agentId, contact: { customAttributes: (id) => ({ plan: id.attributes.plan }) } });
 */
export function createChatForwarder(options: ChatForwarderOptions): ChatForwarder {
  const config = resolveChatConfig(options);
  const contacts = createContactSync(config);
  const conversations = createConversations(config);
  const chatUrl = `${config.baseUrl}/api/v2/agents/${encodeURIComponent(config.agentId)}/chat`;

  function userIdOf(identity: Identity): string {
    const id = config.userId(identity);
    // A wrong return would merge customers under one id ("undefined"): a server bug, never a silent fallback.
    if (typeof id !== 'string' || id === '') throw new TypeError('@idgate/chat: userId(identity) must return a non-empty string');
    return chatUserId(id, config.secret);
  }

  async function chat({ identity, body, signal }: EndpointInput): Promise<EndpointResult> {
    const input = parseChatInput(body, config.maxMessageBytes);
    const userId = userIdOf(identity);
    contacts?.schedule(identity, userId);
    if (input.conversationId !== undefined && config.verifyConversations) await conversations.assertOwned(userId, input.conversationId);
    return timeUpstreamCall(config.onEvent, 'chat', () => (input.stream ? stream(input, userId, signal) : reply(input, userId, signal)));
  }

  /** The upstream body, built from validated fields only. */
  function upstreamBody(input: ChatInput, userId: string): string {
    const out: Record<string, unknown> = { message: input.message, userId, stream: input.stream };
    if (input.conversationId !== undefined) out.conversationId = input.conversationId;
    return JSON.stringify(out);
  }

  function post(input: ChatInput, userId: string, signal: AbortSignal, accept: string): Promise<Response> {
    return config.fetch(chatUrl, {
      method: 'POST',
      // Built here, never copied from the client: no Authorization, Cookie or X-* of theirs goes upstream.
      headers: { authorization: `Bearer ${config.apiKey}`, 'content-type': 'application/json', accept },
      body: upstreamBody(input, userId),
      signal,
      redirect: 'error',
    });
  }

  async function reply(input: ChatInput, userId: string, signal: AbortSignal): Promise<EndpointResult> {
    // Not requestJson: a chat post must not be retried (it would post twice), and the status must survive to pick the error.
    const call = upstreamCall(signal, config.http.timeout);
    call.arm();
    try {
      const res = await post(input, userId, call.signal, 'application/json');
      if (!res.ok) {
        await res.body?.cancel().catch(() => {});
        throw upstreamStatusError(res.status, res.headers);
      }
      const parsed = answer.safeParse(parseJson(await readCapped(res, config.http.maxBodyBytes)));
      if (!parsed.success) throw badResponse('an answer that does not match the contract', parsed.error);
      const { text, conversationId, messageId, finishReason } = parsed.data.data;
      conversations.remember(userId, conversationId);
      const body: ChatReply = { text, conversationId };
      if (messageId !== undefined) body.messageId = messageId;
      if (finishReason !== undefined) body.finishReason = finishReason;
      return { kind: 'respond', statusCode: 200, body: { ...body }, headers: PRIVATE_HEADERS, setCookies: [] };
    } catch (err) {
      throw toChatError(err, call.timedOut);
    } finally {
      call.end();
    }
  }

  async function stream(input: ChatInput, userId: string, signal: AbortSignal): Promise<EndpointResult> {
    const call = upstreamCall(signal, config.http.timeout);
    call.arm();
    let res: Response;
    try {
      res = await post(input, userId, call.signal, 'text/event-stream');
      if (!res.ok) throw upstreamStatusError(res.status, res.headers);
      if (!/^text\/event-stream\b/i.test(res.headers.get('content-type') ?? '') || !res.body) throw badResponse('something other than an event stream');
    } catch (err) {
      call.end();
      throw toChatError(err, call.timedOut);
    }
    call.disarm();
    const onEvents = (events: string) => {
      // The finish frame names the conversation; remembering it spares the ownership check a list call.
      if (!events.includes('"conversationId"')) return;
      for (const line of events.split(/\r\n|\r|\n/)) {
        if (!line.startsWith('data:') || !line.includes('"finish"')) continue;
        const id = (parseJson(line.slice(5)) as { metadata?: { conversationId?: unknown } } | undefined)?.metadata?.conversationId;
        if (typeof id === 'string' || typeof id === 'number') conversations.remember(userId, String(id));
      }
    };
    return { kind: 'stream', statusCode: 200, headers: SSE_HEADERS, body: relayEvents(res.body!, { call, logger: config.logger, onEvents }) };
  }

  async function listed({ identity, body }: EndpointInput): Promise<EndpointResult> {
    const options: ListOptions = {};
    if (body.limit !== undefined) options.limit = body.limit as number;
    if (body.cursor !== undefined) options.cursor = body.cursor as string;
    const page = await conversations.list(userIdOf(identity), options);
    return { kind: 'respond', statusCode: 200, body: { ...page }, headers: PRIVATE_HEADERS, setCookies: [] };
  }

  return {
    endpoint(endpointOptions = {}) {
      const action = endpointOptions.action ?? 'chat';
      if (action !== 'chat' && action !== 'conversations') throw new TypeError(`@idgate/chat: endpoint action must be 'chat' or 'conversations'`);
      return { handle: action === 'chat' ? chat : listed };
    },
    listConversations: (identity, listOptions) => conversations.list(userIdOf(identity), listOptions),
    userIdOf,
    async syncContact(identity) {
      if (!contacts) throw new TypeError('@idgate/chat: contact sync is off (pass the `contact` option)');
      await contacts.sync(identity, userIdOf(identity));
    },
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The body as text, refusing (and no longer reading) one past `max` bytes. */
async function readCapped(res: Response, max: number): Promise<string> {
  return readCappedBody(res, max, 'chat').catch((err: unknown) => {
    // Only the cap is ours to name; aborts and resets keep their own mapping.
    throw err instanceof UpstreamError ? badResponse(`an answer larger than ${max} bytes`, err) : err;
  });
}
