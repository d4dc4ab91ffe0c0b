import type { Redis } from 'ioredis';
import type { CacheStore, StoreEvent, StoreLookup, StoredIdentity } from '@idgate/core';

/** Options of `redisStore()`. */
export interface RedisStoreOptions {
  /** An ioredis client for commands. */
  client: Redis;
  /** A second connection for pub/sub (a subscribed connection cannot run commands). @default client.duplicate() */
  subscriber?: Redis;
  /** Prefix of every key this store writes. @default 'idgate:' */
  keyPrefix?: string;
  /** Pub/sub channel for invalidations. @default `${keyPrefix}invalidate` */
  channel?: string;
  /** Per-command deadline in ms; past it the command counts as failed and idgate asks the upstream. @default 100 */
  timeout?: number;
}

/** A `CacheStore` on Redis, plus `close()` for the connections it opened. */
export interface RedisStore extends CacheStore {
  close(): Promise<void>;
}

class StoreUnavailable extends Error {
  override name = 'StoreUnavailable';
}

function isStored(v: unknown): v is StoredIdentity {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o.id === 'string' &&
    typeof o.email === 'string' &&
    (o.name === undefined || typeof o.name === 'string') &&
    typeof o.attributes === 'object' && o.attributes !== null && !Array.isArray(o.attributes) &&
    typeof o.verifiedAt === 'number' &&
    typeof o.since === 'number'
  );
}

/**
 * Share verified sessions between instances through Redis. Entries live under
 * `${keyPrefix}s:<hmac>` with a TTL (the keys are core's keyed hashes; the raw
 * identityId is never written), logouts leave a tombstone `${keyPrefix}t:<hmac>`
 * and are published so every instance evicts its in-process entry at once.
 *
 * Pub/sub is at-most-once: the tombstone (checked on every cache miss) and a
 * local cache drop on reconnect make a lost message harmless. Redis down, slow
 * or answering garbage degrades to a cache miss (then the upstream), never to
 * a failed or hanging request.
 * @example
 * import Redis from 'ioredis';
 * const store = redisStore({ client: new Redis(process.env.REDIS_URL) });
 * app.use(identityMiddleware({ store, secret: process.env.IDGATE_SECRET }));
 */
export function redisStore(options: RedisStoreOptions): RedisStore {
  const { client } = options;
  const prefix = options.keyPrefix ?? 'idgate:';
  const channel = options.channel ?? `${prefix}invalidate`;
  const timeout = options.timeout ?? 100;
  let subscriber: Redis | undefined = options.subscriber;
  const ownsSubscriber = subscriber === undefined;

  // ioredis queues commands while disconnected; a queued command would hang
  // the request, so an unready client is a miss straight away.
  function guarded<T>(operation: string, run: () => Promise<T>): Promise<T> {
    if (client.status !== 'ready') return Promise.reject(new StoreUnavailable(`redis not ready (${client.status})`));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreUnavailable(`redis ${operation} exceeded ${timeout} ms`)), timeout);
    });
    return Promise.race([run(), deadline]).finally(() => clearTimeout(timer));
  }

  return {
    async lookup(key): Promise<StoreLookup> {
      const [value, tomb] = await guarded('lookup', () => client.mget(`${prefix}s:${key}`, `${prefix}t:${key}`));
      if (tomb !== null && tomb !== undefined) return { kind: 'invalidated' };
      if (value === null || value === undefined) return { kind: 'miss' };
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        throw new Error('redis entry is not JSON');
      }
      if (!isStored(parsed)) throw new Error('redis entry has an unexpected shape');
      return { kind: 'hit', value: parsed };
    },

    async set(key, value, ttlMs) {
      const { id, email, name, attributes, verifiedAt, since } = value;
      await guarded('set', () => client.set(`${prefix}s:${key}`, JSON.stringify({ id, email, name, attributes, verifiedAt, since }), 'PX', Math.max(1, ttlMs)));
    },

    async invalidate(key, ttlMs) {
      await guarded('invalidate', () =>
        client
          .multi()
          .del(`${prefix}s:${key}`)
          .set(`${prefix}t:${key}`, '1', 'PX', Math.max(1, ttlMs))
          .publish(channel, key)
          .exec(),
      );
    },

    subscribe(listener: (event: StoreEvent) => void) {
      subscriber ??= client.duplicate();
      const sub = subscriber;
      let readyBefore = sub.status === 'ready';
      sub.on('message', (ch: string, message: string) => {
        if (ch === channel && message.length > 0 && message.length < 200) listener({ type: 'invalidate', key: message });
      });
      sub.on('ready', () => {
        // ioredis re-subscribes on reconnect; what was published meanwhile is lost.
        if (readyBefore) listener({ type: 'resync' });
        readyBefore = true;
      });
      sub.on('error', () => {}); // reconnects on its own; errors surface as misses on the client
      sub.subscribe(channel).catch(() => {});
    },

    async close() {
      if (subscriber && ownsSubscriber) subscriber.disconnect();
    },
  };
}
