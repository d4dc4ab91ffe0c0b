import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { requestJson, timeUpstreamCall } from '@idgate/core/adapter';
import { badResponse, ChatError, toChatError, upstreamStatusError } from './errors.js';
import type { ChatConfig } from './options.js';

/**
 * One of the customer's conversations, as relayed to them.
 * @example { id: '456', title: 'Where is my order?', createdAt: 1767225600, updatedAt: 1767225660, messageCount: 2 }
 */
export interface ConversationSummary {
  id: string;
  title?: string;
  /** Unix seconds. */
  createdAt?: number;
  /** Unix seconds. */
  updatedAt?: number;
  messageCount?: number;
}

/**
 * A page of the customer's conversations, newest activity first.
 * @example const { conversations, cursor } = await forwarder.listConversations(req.identity);
 */
export interface ConversationPage {
  conversations: ConversationSummary[];
  /** Pass back as `cursor` for the next page; null at the end. */
  cursor: string | null;
  hasMore: boolean;
}

/**
 * Options of `listConversations`.
 * @example await forwarder.listConversations(identity, { limit: 50, cursor: page.cursor ?? undefined });
 */
export interface ListOptions {
  /** 1 to 100. @default 20 */
  limit?: number;
  /** From a previous page. */
  cursor?: string;
}

// Only the fields we relay are read; anything else the upstream adds stays behind.
const page = z.object({
  data: z.array(
    z.object({
      id: z.union([z.string().min(1), z.number()]).transform(String),
      title: z.string().nullish(),
      createdAt: z.number().nullish(),
      updatedAt: z.number().nullish(),
      messageCount: z.number().int().nonnegative().nullish(),
    }),
  ),
  pagination: z.object({ cursor: z.string().nullish(), hasMore: z.boolean() }).optional(),
});

const listOptions = z
  .object({ limit: z.number().int().min(1).max(100).optional(), cursor: z.string().min(1).max(512).optional() })
  .strict();

/** How many pages the ownership check reads at most (100 conversations each). */
const OWNERSHIP_PAGES = 10;

/**
 * The customer's conversations, and whether one of them is theirs.
 * @example await conversations.assertOwned(userId, 456); // or 404 CHAT_CONVERSATION_NOT_FOUND
 */
export interface Conversations {
  list(userId: string, options?: ListOptions): Promise<ConversationPage>;
  /** Throws 404 `CHAT_CONVERSATION_NOT_FOUND` unless the conversation is the customer's. */
  assertOwned(userId: string, conversationId: string | number): Promise<void>;
  /** A conversation this process just saw created for the customer. */
  remember(userId: string, conversationId: string): void;
}

/**
 * `GET /api/v2/agents/{agentId}/users/{userId}/conversations`, plus an LRU of
 * conversation ids per customer for the ownership check.
 * @example await conversations.assertOwned(userId, body.conversationId);
 */
export function createConversations(config: ChatConfig): Conversations {
  const base = `${config.baseUrl}/api/v2/agents/${encodeURIComponent(config.agentId)}/users/`;

  async function list(userId: string, options: ListOptions = {}): Promise<ConversationPage> {
    const checked = listOptions.safeParse(options);
    if (!checked.success) throw new ChatError('CHAT_BAD_REQUEST', `\`${String(checked.error.issues[0]!.path[0] ?? 'options')}\` ${checked.error.issues[0]!.message}.`, { status: 400 });
    const query = new URLSearchParams({ limit: String(checked.data.limit ?? 20) });
    if (checked.data.cursor) query.set('cursor', checked.data.cursor);
    let res;
    try {
      res = await timeUpstreamCall(config.onEvent, 'chat-conversations', () => requestJson(`${base}${encodeURIComponent(userId)}/conversations?${query}`, config.http, {
        method: 'GET',
        headers: { authorization: `Bearer ${config.apiKey}` },
        fetch: config.fetch,
        // A 429 is answered as it is: retrying into a rate limit only deepens it.
        isAnswer: (r) => r.status === 429,
        label: 'chat conversations',
      }));
    } catch (err) {
      throw toChatError(err);
    }
    if (res.status !== 200) throw upstreamStatusError(res.status, res.headers);
    const parsed = page.safeParse(res.body);
    if (!parsed.success) throw badResponse('a conversation list that does not match the contract', parsed.error);
    return {
      conversations: parsed.data.data.map((c) => {
        const out: ConversationSummary = { id: c.id };
        if (c.title != null) out.title = c.title;
        if (c.createdAt != null) out.createdAt = c.createdAt;
        if (c.updatedAt != null) out.updatedAt = c.updatedAt;
        if (c.messageCount != null) out.messageCount = c.messageCount;
        return out;
      }),
      cursor: parsed.data.pagination?.cursor ?? null,
      hasMore: parsed.data.pagination?.hasMore ?? false,
    };
  }

  const owned = new LRUCache<string, Set<string>>({
    max: 10_000,
    ttl: 10 * 60_000,
    fetchMethod: async (userId) => {
      const ids = new Set<string>();
      let cursor: string | undefined;
      for (let n = 0; n < OWNERSHIP_PAGES; n++) {
        const p = await list(userId, cursor ? { limit: 100, cursor } : { limit: 100 });
        for (const c of p.conversations) ids.add(c.id);
        if (!p.hasMore || !p.cursor) break;
        cursor = p.cursor;
      }
      return ids;
    },
  });

  return {
    list,
    async assertOwned(userId, conversationId) {
      const id = String(conversationId);
      if (owned.get(userId)?.has(id)) return;
      // Not known here: it may have been created by another instance, so ask (one call in flight per customer).
      const ids = await owned.fetch(userId, { forceRefresh: true });
      if (!ids?.has(id)) throw new ChatError('CHAT_CONVERSATION_NOT_FOUND', 'No such conversation.', { status: 404 });
    },
    remember(userId, conversationId) {
      const ids = owned.get(userId);
      if (ids) ids.add(conversationId);
      else owned.set(userId, new Set([conversationId]));
    },
  };
}
