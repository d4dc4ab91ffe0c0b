import { z } from 'zod';
import { ConfigError, silentLogger, type HttpPolicy, type Identity, type IdgateEvent, type Logger } from '@idgate/core/adapter';

/**
 * Where contact fingerprints are shared between instances, so a customer is
 * upserted once per change across a fleet rather than once per process. A
 * failing call is treated as a miss. An ioredis client fits in two lines.
 * @example
 * const store: ChatStore = { get: (k) => redis.get(k), set: (k, v, ttl) => redis.set(k, v, 'PX', ttl).then(() => {}) };
 */
export interface ChatStore {
  get(key: string): Promise<string | null | undefined>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
}

/**
 * Options of `createChatForwarder()`, validated once when it runs.
 * @example createChatForwarder({ baseUrl: 'https://app.bookbag.ai', apiKey: process.env.BOOKBAG_API_KEY!, agentId: 123 })
 */
export interface ChatForwarderOptions {
  /** The chat API's origin (and optional path prefix), e.g. `https://app.bookbag.ai`. No query or fragment. */
  baseUrl: string;
  /** The Bearer key. It stays on the server: never in a response, a log line or an error message. */
  apiKey: string;
  /** The agent every chat goes to; only configuration chooses it. */
  agentId: string | number;
  /**
   * The upstream `userId` for a verified identity. A value outside
   * `^[a-zA-Z0-9._-]{1,128}$` is replaced by a stable hash (`chatUserId`).
   * @default (identity) => identity.id
   */
  userId?: (identity: Identity) => string;
  /** Contact sync (`POST /api/v1/chatbots/{chatbotId}/contacts`); off unless this option is given. */
  contact?: {
    /** @default true (when `contact` is given) */
    enabled?: boolean;
    /** Bookbag's chatbot id is the agent id. @default agentId */
    chatbotId?: string | number;
    /** The contact's `custom_attributes`; when absent none are sent (the profile is not shared by default). */
    customAttributes?: (identity: Identity) => Record<string, unknown>;
    /** How long a synced contact is trusted before it is upserted again, in ms. @default 86_400_000 (a day) */
    ttl?: number;
    /** Contacts remembered in memory. @default 10_000 */
    max?: number;
  };
  /**
   * Refuse a `conversationId` the customer does not own (checked against their
   * conversation list, then cached). Bookbag ignores `userId` when a
   * conversation is continued, so without this a customer could post into,
   * and read the answer of, someone else's conversation.
   * @default true
   */
  verifyConversations?: boolean;
  /** Shares synced-contact fingerprints between instances. */
  store?: ChatStore;
  /** Key of the HMAC behind hashed user ids and store keys (at least 16 characters). @default plain SHA-256 */
  secret?: string;
  /** Largest `message`, in UTF-8 bytes; beyond it 413. @default 16_384 */
  maxMessageBytes?: number;
  /**
   * Timeouts and retries. `timeout` bounds the wait for a JSON answer, for a
   * stream's headers and for each gap between a stream's chunks. Chat posts
   * are never retried (a retry could post the message twice); contact and
   * conversation calls are.
   * @default { timeout: 60_000, totalTimeout: 90_000, retries: 2, backoffBase: 200, backoffMax: 2_000, retryAfterMax: 5_000, maxBodyBytes: 1_048_576 }
   */
  http?: Partial<HttpPolicy>;
  /** For tests. @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Where contact-sync failures and mid-stream upstream failures are reported. @default silent */
  logger?: Logger;
  /**
   * Told about every call to Bookbag (`upstream-call` events: `chat`, until the
   * answer or the stream's headers; `chat-contacts`; `chat-conversations`), for
   * metrics and traces (@idgate/telemetry). The same listener as idgate's `onEvent` fits.
   * @default none
   */
  onEvent?: (event: IdgateEvent) => void;
}

/**
 * Options after validation and defaults.
 * @example const { agentId, http } = resolveChatConfig(options);
 */
export interface ChatConfig {
  baseUrl: string;
  apiKey: string;
  agentId: string;
  userId: (identity: Identity) => string;
  contact: { chatbotId: string; customAttributes: ((identity: Identity) => Record<string, unknown>) | undefined; ttl: number; max: number } | undefined;
  verifyConversations: boolean;
  store: ChatStore | undefined;
  secret: string | undefined;
  maxMessageBytes: number;
  http: HttpPolicy;
  fetch: typeof fetch;
  logger: Logger;
  onEvent: ((event: IdgateEvent) => void) | undefined;
}

const fn = (label: string) => z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', { message: `expected a function (${label})` });
// `.` and `..` are refused: in a URL path they are dot segments.
const pathId = z
  .union([z.string().regex(/^(?!\.+$)[A-Za-z0-9._-]{1,128}$/, 'expected 1 to 128 of A-Z a-z 0-9 . _ - (not only dots)'), z.number().int().nonnegative()])
  .transform(String);
const ms = z.number().int().nonnegative();

const schema = z
  .object({
    baseUrl: z
      .url({ protocol: /^https?$/, message: 'expected an http(s) URL' })
      .refine((u) => !u.includes('?') && !u.includes('#'), 'expected no query string or fragment'),
    // Printable ASCII only: anything else could split the Authorization header.
    apiKey: z.string().regex(/^[\x21-\x7e]{8,512}$/, 'expected 8 to 512 printable characters without spaces'),
    agentId: pathId,
    userId: fn('identity => string').optional(),
    contact: z
      .object({
        enabled: z.boolean().default(true),
        chatbotId: pathId.optional(),
        customAttributes: fn('identity => object').optional(),
        ttl: z.number().int().positive().default(86_400_000),
        max: z.number().int().positive().default(10_000),
      })
      .strict()
      .optional(),
    verifyConversations: z.boolean().default(true),
    store: z
      .custom<ChatStore>((v) => typeof v === 'object' && v !== null && typeof (v as ChatStore).get === 'function' && typeof (v as ChatStore).set === 'function', {
        message: 'expected { get(key), set(key, value, ttlMs) }',
      })
      .optional(),
    secret: z.string().min(16, 'expected at least 16 characters').optional(),
    maxMessageBytes: z.number().int().positive().max(1_048_576).default(16_384),
    http: z
      .object({
        timeout: z.number().int().positive().default(60_000),
        totalTimeout: z.number().int().positive().default(90_000),
        retries: z.number().int().min(0).max(10).default(2),
        backoffBase: ms.default(200),
        backoffMax: ms.default(2_000),
        retryAfterMax: ms.default(5_000),
        maxBodyBytes: z.number().int().positive().default(1_048_576),
      })
      .strict()
      .prefault({}),
    fetch: fn('fetch').optional(),
    logger: z.custom<Logger>((v) => typeof v === 'object' && v !== null, { message: 'expected a pino-compatible logger' }).optional(),
    onEvent: fn('onEvent').optional(),
  })
  .strict();

/**
 * Validate options once; a bad one throws a `ConfigError` naming the field
 * (never its value, so the API key cannot end up in a log).
 * @example resolveChatConfig({ baseUrl, apiKey, agentId: 1 }).agentId // '1'
 */
export function resolveChatConfig(options: ChatForwarderOptions): ChatConfig {
  if (options === null || typeof options !== 'object') throw new ConfigError('@idgate/chat: expected an options object { baseUrl, apiKey, agentId }');
  const parsed = schema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join('.');
    if (issue.code === 'unrecognized_keys') throw new ConfigError(`@idgate/chat: unknown option${field ? ` in \`${field}\`` : ''}: ${issue.keys.join(', ')}`);
    // zod 4 leaves the input out of its issues; look the value up to tell "missing" from "wrong".
    const value = issue.path.reduce<unknown>((o, k) => (o !== null && typeof o === 'object' ? (o as Record<PropertyKey, unknown>)[k] : undefined), options);
    if (issue.code === 'invalid_type' && value === undefined) throw new ConfigError(`@idgate/chat: option \`${field}\` is required`);
    throw new ConfigError(`@idgate/chat: option \`${field || '(options)'}\` ${issue.message}`);
  }
  const c = parsed.data;
  const contact = c.contact?.enabled
    ? {
        chatbotId: c.contact.chatbotId ?? c.agentId,
        customAttributes: c.contact.customAttributes as ((identity: Identity) => Record<string, unknown>) | undefined,
        ttl: c.contact.ttl,
        max: c.contact.max,
      }
    : undefined;
  return {
    baseUrl: c.baseUrl.replace(/\/+$/, ''),
    apiKey: c.apiKey,
    agentId: c.agentId,
    userId: (c.userId as ((identity: Identity) => string) | undefined) ?? ((identity) => identity.id),
    contact,
    verifyConversations: c.verifyConversations,
    store: c.store,
    secret: c.secret,
    maxMessageBytes: c.maxMessageBytes,
    http: c.http,
    fetch: (c.fetch as typeof fetch | undefined) ?? ((input, init) => fetch(input, init)),
    logger: c.logger ?? silentLogger,
    onEvent: c.onEvent as ((event: IdgateEvent) => void) | undefined,
  };
}
