import { createHash, createHmac } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { requestJson, timeUpstreamCall, type Identity } from '@idgate/core/adapter';
import { toChatError, upstreamStatusError } from './errors.js';
import type { ChatConfig } from './options.js';

/** What is upserted for one customer (Bookbag `users[]` entry). */
interface ContactJob {
  contact: { external_id: string; email: string; name?: string; custom_attributes?: Record<string, unknown> };
  fingerprint: string;
}

/**
 * Keeps Bookbag contacts in step with verified identities.
 * @example contacts.schedule(identity, userId); // returns at once
 */
export interface ContactSync {
  /** Fire and forget: upsert when this identity is new or changed; never throws, never blocks. */
  schedule(identity: Identity, userId: string): void;
  /** The same, awaited; rejects with a `ChatError` when the upsert fails. */
  sync(identity: Identity, userId: string): Promise<void>;
}

/**
 * Contact sync, deduplicated three ways: an LRU of fingerprints already
 * synced, one upsert in flight per userId (lru-cache's `fetch()` merges
 * concurrent calls), and across instances the optional `store`.
 * @example const contacts = createContactSync(config); contacts?.schedule(identity, userId);
 */
export function createContactSync(config: ChatConfig): ContactSync | undefined {
  const { contact, store, secret, logger } = config;
  if (!contact) return undefined;
  const url = `${config.baseUrl}/api/v1/chatbots/${encodeURIComponent(contact.chatbotId)}/contacts`;
  const hash = (value: string) =>
    secret ? createHmac('sha256', secret).update(value).digest('base64url') : createHash('sha256').update(value).digest('base64url');
  const storeKey = (userId: string) => `idgate:chat:contact:${contact.chatbotId}:${hash(userId)}`;

  async function upsert(userId: string, job: ContactJob): Promise<string> {
    if (store) {
      const seen = await store.get(storeKey(userId)).catch(() => undefined);
      if (seen === job.fingerprint) return job.fingerprint;
    }
    let status: number;
    let headers: Headers;
    try {
      ({ status, headers } = await timeUpstreamCall(config.onEvent, 'chat-contacts', () => requestJson(url, config.http, {
        headers: { authorization: `Bearer ${config.apiKey}` },
        body: { users: [job.contact] },
        fetch: config.fetch,
        label: 'chat contacts',
      })));
    } catch (err) {
      throw toChatError(err);
    }
    if (status < 200 || status > 299) throw upstreamStatusError(status, headers);
    await store?.set(storeKey(userId), job.fingerprint, contact!.ttl).catch((err: unknown) => {
      logger.warn({ event: 'chat-contact-store-failed', error: err instanceof Error ? err.message : String(err) }, 'chat: could not record a synced contact in the store');
    });
    return job.fingerprint;
  }

  const synced = new LRUCache<string, string, ContactJob>({
    max: contact.max,
    ttl: contact.ttl,
    fetchMethod: (userId, _previous, { context }) => upsert(userId, context),
  });

  function jobFor(identity: Identity, userId: string): ContactJob {
    const entry: ContactJob['contact'] = { external_id: userId, email: identity.email };
    if (identity.name !== undefined) entry.name = identity.name;
    if (contact!.customAttributes) {
      const attributes = contact!.customAttributes(identity);
      if (attributes === null || typeof attributes !== 'object' || Array.isArray(attributes)) {
        throw new TypeError('@idgate/chat: contact.customAttributes(identity) must return an object');
      }
      entry.custom_attributes = attributes;
    }
    return { contact: entry, fingerprint: createHash('sha256').update(canonicalJson(entry)).digest('base64url') };
  }

  async function sync(identity: Identity, userId: string): Promise<void> {
    const job = jobFor(identity, userId);
    if (synced.get(userId) === job.fingerprint) return;
    // forceRefresh replaces a stale fingerprint; a fetch already in flight for this userId is shared, not repeated.
    await synced.fetch(userId, { context: job, forceRefresh: true });
  }

  return {
    sync,
    schedule(identity, userId) {
      sync(identity, userId).catch((err: unknown) => {
        const code = (err as { code?: unknown }).code;
        logger.warn({ event: 'chat-contact-sync-failed', code }, `chat: contact sync failed, retried on the next request: ${err instanceof Error ? err.message : String(err)}`);
      });
    },
  };
}

/** JSON with object keys sorted at every depth, so equal contacts hash equally. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
