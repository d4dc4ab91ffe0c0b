import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { MockModule, MockReply, MockRequest } from './server.js';

/** A ready-made key of the accepted format (`oc_` like Bookbag's, then 8 to 128 of A-Z a-z 0-9 _ -). */
export const MOCK_CHAT_API_KEY = 'oc_idgateMockChatLocalKey0000000';

/**
 * Options of the chat (Bookbag) emulation.
 * @example await startMockUpstream({ chat: { tokenDelayMs: 100, apiKeys: [MOCK_CHAT_API_KEY] } })
 */
export interface ChatMockOptions {
  /** Accepted Bearer keys. @default any key matching `^oc_[A-Za-z0-9_-]{8,128}$` */
  apiKeys?: string[];
  /** Wait before each streamed event (every text-delta, the finish frame and `[DONE]`). @default 0 */
  tokenDelayMs?: number;
  /** The reply's text-deltas for a message. @default the words of `Hello <userId or guest>, you said: <message>` */
  reply?: (message: string, userId: string | undefined) => string[];
}

/** A contact as the mock keeps it; `upserts` counts the calls that touched it. */
export interface ChatContact {
  chatbotId: string;
  id: string;
  external_id: string;
  name: string | null;
  email: string | null;
  phonenumber: string | null;
  custom_attributes: Record<string, unknown>;
  /** Unix seconds. */
  created_at: number;
  updated_at: number;
  upserts: number;
}

/** A conversation as the mock keeps it. */
export interface ChatConversation {
  id: string;
  agentId: string;
  /** Set when the conversation is created; a later `userId` is ignored, as Bookbag does. */
  userId: string | null;
  /** Unix seconds. */
  createdAt: number;
  updatedAt: number;
  messages: { role: 'user' | 'assistant'; text: string }[];
}

/** The chat route module plus the state tests inspect. */
export interface ChatMock extends MockModule {
  /** Streams whose client disconnected before the last event was written. */
  aborts(): number;
  /** Contacts, oldest first, optionally of one chatbot. */
  contacts(chatbotId?: string): ChatContact[];
  conversations(): ChatConversation[];
  /** The current wait before each streamed event. */
  tokenDelay(): number;
  /** Changes it until the next reset; a TypeError unless an integer >= 0. */
  setTokenDelay(ms: number): void;
}

const KEY_FORMAT = /^oc_[A-Za-z0-9_-]{8,128}$/;
const USER_ID = /^[a-zA-Z0-9._-]{1,128}$/;
const MAX_CONTACTS = 1000;

/**
 * Creates the Bookbag emulation: routes `chat` (`POST /api/v2/agents/{id}/chat`,
 * JSON or server-sent events), `contacts` (`POST /api/v1/chatbots/{id}/contacts`,
 * upsert by `external_id`) and `conversations`
 * (`GET /api/v2/agents/{id}/users/{userId}/conversations`).
 * @example const chat = createChat({ tokenDelayMs: 50 }, Date.now);
 */
export function createChat(options: ChatMockOptions, now: () => number): ChatMock {
  if (options === null || typeof options !== 'object') throw new TypeError('chat: expected an object.');
  const allowed = options.apiKeys && new Set(options.apiKeys);
  for (const key of options.apiKeys ?? []) {
    if (typeof key !== 'string' || !KEY_FORMAT.test(key)) throw new TypeError(`chat.apiKeys: every key must match ${KEY_FORMAT}.`);
  }
  const initialDelay = delayOf(options.tokenDelayMs, 'chat.tokenDelayMs');
  if (options.reply !== undefined && typeof options.reply !== 'function') throw new TypeError('chat.reply: expected a function.');
  const replyFor = options.reply ?? ((message: string, userId: string | undefined) => `Hello ${userId ?? 'guest'}, you said: ${message}`.match(/\S+\s*/g) ?? []);

  let delayMs = initialDelay;
  let aborts = 0;
  let sequence = 0;
  const contacts = new Map<string, ChatContact>();
  const conversations = new Map<string, ChatConversation>();
  const seconds = () => Math.floor(now() / 1000);

  function reset(): void {
    delayMs = initialDelay;
    aborts = 0;
    sequence = 0;
    contacts.clear();
    conversations.clear();
  }

  /** The 401 for a missing or unknown Bearer key, or null. */
  function unauthorized(req: MockRequest, v2: boolean): MockReply | null {
    const auth = req.headers.authorization;
    const key = auth !== undefined && /^bearer /i.test(auth) ? auth.slice(7).trim() : '';
    if (key !== '' && KEY_FORMAT.test(key) && (!allowed || allowed.has(key))) return null;
    if (!v2) return { status: 401, body: { message: 'Unauthorized' } };
    return key === '' ? v2Error(401, 'AUTH_MISSING_API_KEY', 'Missing API key.') : v2Error(401, 'AUTH_INVALID_API_KEY', 'Invalid API key.');
  }

  async function chat(req: MockRequest): Promise<MockReply | null> {
    const refused = unauthorized(req, true);
    if (refused) return refused;
    if (req.malformed || !isRecord(req.body)) return v2Error(400, 'VALIDATION_INVALID_BODY', 'The body must be a JSON object.');
    const agentId = segment(req.params[0]);
    if (agentId === null) return v2Error(404, 'RESOURCE_NOT_FOUND', 'Agent not found.');
    const { message, userId, conversationId, stream } = req.body;
    if (typeof message !== 'string' || message.trim() === '') return v2Error(400, 'VALIDATION_INVALID_BODY', 'message must be a non-empty string.');
    if (userId !== undefined && (typeof userId !== 'string' || !USER_ID.test(userId))) {
      return v2Error(400, 'VALIDATION_INVALID_BODY', 'userId must match ^[a-zA-Z0-9._-]{1,128}$.');
    }
    if (stream !== undefined && typeof stream !== 'boolean') return v2Error(400, 'VALIDATION_INVALID_BODY', 'stream must be a boolean.');
    let conversation: ChatConversation | undefined;
    if (conversationId !== undefined && conversationId !== null) {
      conversation = typeof conversationId === 'string' || typeof conversationId === 'number' ? conversations.get(String(conversationId)) : undefined;
      // Only the agent is checked, as Bookbag documents it: Bookbag does not say it checks the userId.
      if (!conversation || conversation.agentId !== agentId) return v2Error(404, 'RESOURCE_NOT_FOUND', 'Conversation not found.');
    } else {
      const t = seconds();
      conversation = { id: String(++sequence), agentId, userId: userId ?? null, createdAt: t, updatedAt: t, messages: [] };
      conversations.set(conversation.id, conversation);
    }
    conversation.messages.push({ role: 'user', text: message });
    conversation.updatedAt = seconds();
    const deltas = replyFor(message, userId);
    const metadata = {
      userMessageId: `msg_${++sequence}`,
      conversationId: conversation.id,
      userId: conversation.userId,
      messageId: `msg_${++sequence}`,
      usage: { credits: 1 },
    };
    const text = deltas.join('');
    // Bookbag streams unless told otherwise.
    if (stream === false) {
      conversation.messages.push({ role: 'assistant', text });
      return { status: 200, body: { data: { text, ...metadata, finishReason: 'stop' } } };
    }
    const events = [
      ...deltas.map((delta) => JSON.stringify({ type: 'text-delta', text: delta })),
      JSON.stringify({ type: 'finish', finishReason: 'stop', metadata }),
      '[DONE]',
    ];
    const finished = await writeEvents(req.res, events);
    if (finished) conversation.messages.push({ role: 'assistant', text });
    return null;
  }

  /** Writes the events with the current delay before each; false when the client left first (counted). */
  async function writeEvents(res: ServerResponse, events: string[]): Promise<boolean> {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-vercel-ai-ui-message-stream': 'v1' });
    res.flushHeaders();
    let done = false;
    res.once('close', () => {
      if (!done) aborts++;
    });
    for (const event of events) {
      if (delayMs > 0 && !(await pause(res, delayMs))) return false;
      if (res.destroyed) return false;
      // Respect backpressure, so a slow reader holds the stream back as a real server's would.
      if (!res.write(`data: ${event}\n\n`) && !(await drained(res))) return false;
    }
    done = true;
    res.end();
    return true;
  }

  function upsertContacts(req: MockRequest): MockReply {
    const refused = unauthorized(req, false);
    if (refused) return refused;
    const chatbotId = segment(req.params[0]);
    if (chatbotId === null) return { status: 404, body: { message: 'Resource not found' } };
    const body = isRecord(req.body) ? req.body : {};
    // The Bookbag identity guide's body is `{ users: [...] }`; no other name is documented.
    const users = body.users;
    if (!Array.isArray(users) || users.length === 0) return { status: 400, body: { message: 'Invalid request data' } };
    if (users.length > MAX_CONTACTS) return { status: 400, body: { message: `Maximum ${MAX_CONTACTS} contacts per request` } };
    if (!users.every(validContact)) return { status: 400, body: { message: 'Invalid request data' } };
    const t = seconds();
    const data = (users as Record<string, unknown>[]).map((u) => {
      const externalId = typeof u.external_id === 'string' ? u.external_id : `ext_${randomBytes(8).toString('hex')}`;
      const key = `${chatbotId}\n${externalId}`;
      let contact = contacts.get(key);
      if (!contact) {
        contact = {
          chatbotId,
          id: `contact_${contacts.size + 1}`,
          external_id: externalId,
          name: null,
          email: null,
          phonenumber: null,
          custom_attributes: {},
          created_at: t,
          updated_at: t,
          upserts: 0,
        };
        contacts.set(key, contact);
      }
      // An upsert updates the fields it carries and keeps the others.
      if (u.name !== undefined) contact.name = u.name as string | null;
      if (u.email !== undefined) contact.email = u.email as string;
      if (u.phonenumber !== undefined) contact.phonenumber = u.phonenumber as string;
      if (u.custom_attributes !== undefined) contact.custom_attributes = { ...contact.custom_attributes, ...(u.custom_attributes as object) };
      contact.updated_at = t;
      contact.upserts++;
      return wireContact(contact);
    });
    return { status: 200, body: { message: 'Contacts created/updated', data } };
  }

  function listConversations(req: MockRequest): MockReply {
    const refused = unauthorized(req, true);
    if (refused) return refused;
    const agentId = segment(req.params[0]);
    const userId = segment(req.params[1]);
    if (agentId === null || userId === null || !USER_ID.test(userId)) return v2Error(400, 'VALIDATION_INVALID_PARAMS', 'userId must match ^[a-zA-Z0-9._-]{1,128}$.');
    const limit = req.query.limit === undefined ? 20 : Number(req.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) return v2Error(400, 'VALIDATION_INVALID_PARAMS', 'limit must be an integer from 1 to 100.');
    // The cursor is opaque to clients; here it is the offset, base64url-encoded.
    const decoded = req.query.cursor === undefined ? '0' : Buffer.from(req.query.cursor, 'base64url').toString();
    if (!/^\d{1,9}$/.test(decoded)) return v2Error(400, 'VALIDATION_INVALID_PARAMS', 'cursor is not valid.');
    const offset = Number(decoded);
    const mine = [...conversations.values()]
      .filter((c) => c.agentId === agentId && c.userId === userId)
      .sort((a, b) => b.updatedAt - a.updatedAt || Number(b.id) - Number(a.id));
    const page = mine.slice(offset, offset + limit);
    const hasMore = offset + limit < mine.length;
    return {
      status: 200,
      body: {
        data: page.map((c) => ({
          id: c.id,
          userId: c.userId,
          title: c.messages[0]?.text.slice(0, 60) ?? null,
          createdAt: c.createdAt,
          updatedAt: c.updatedAt,
          messageCount: c.messages.length,
        })),
        pagination: { cursor: hasMore ? Buffer.from(String(offset + limit)).toString('base64url') : null, hasMore, total: mine.length },
      },
    };
  }

  return {
    routes: [
      { name: 'chat', method: 'POST', path: /^\/api\/v2\/agents\/([^/]+)\/chat$/, handler: chat },
      { name: 'contacts', method: 'POST', path: /^\/api\/v1\/chatbots\/([^/]+)\/contacts$/, handler: upsertContacts },
      { name: 'conversations', method: 'GET', path: /^\/api\/v2\/agents\/([^/]+)\/users\/([^/]+)\/conversations$/, handler: listConversations },
    ],
    reset,
    aborts: () => aborts,
    contacts: (chatbotId) => [...contacts.values()].filter((c) => chatbotId === undefined || c.chatbotId === String(chatbotId)).map((c) => ({ ...c })),
    conversations: () => [...conversations.values()].map((c) => ({ ...c, messages: c.messages.map((m) => ({ ...m })) })),
    tokenDelay: () => delayMs,
    setTokenDelay(ms) {
      // undefined would mean "the default" in options; here it is a mistake.
      delayMs = delayOf(ms ?? null, 'tokenDelayMs');
    },
  };
}

/** Resolves true after `ms`, or false as soon as the response closes; leaves no listener or timer behind. */
function pause(res: ServerResponse, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const onClose = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      res.off('close', onClose);
      resolve(true);
    }, ms);
    res.once('close', onClose);
  });
}

/** Resolves true on 'drain', false on 'close'; leaves no listener behind. */
function drained(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const settle = (value: boolean) => () => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(value);
    };
    const onDrain = settle(true);
    const onClose = settle(false);
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}

function validContact(u: unknown): boolean {
  if (!isRecord(u)) return false;
  const optionalString = (v: unknown) => v === undefined || typeof v === 'string';
  return (
    optionalString(u.external_id) &&
    (u.external_id === undefined || (u.external_id as string) !== '') &&
    (optionalString(u.name) || u.name === null) &&
    optionalString(u.email) &&
    optionalString(u.phonenumber) &&
    (u.custom_attributes === undefined || isRecord(u.custom_attributes))
  );
}

function wireContact(c: ChatContact): Record<string, unknown> {
  const { chatbotId: _chatbotId, upserts: _upserts, ...wire } = c;
  return { ...wire, stripe_accounts: [] };
}

/** A decoded path segment, or null when it is malformed or a dot segment. */
function segment(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  try {
    const value = decodeURIComponent(raw);
    return value === '' || value === '.' || value === '..' ? null : value;
  } catch {
    return null;
  }
}

function delayOf(value: unknown, name: string): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new TypeError(`${name}: expected an integer >= 0.`);
  return value;
}

function v2Error(status: number, code: string, message: string): MockReply {
  return { status, body: { error: { code, message } } };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
