import type { Redis } from 'ioredis';
import type { CacheStore, StoreEvent, StoreLookup } from '@idgate/core';

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

/**
 * Share verified sessions between instances through Redis. Entries live under
 * `${keyPrefix}s:<hmac>` with a TTL (the keys are core's keyed hashes; the raw
 * identityId is never written, and the value is core's AES-256-GCM envelope,
 * so neither Redis nor its dumps hold an e-mail, a name or an attribute);
 * logouts leave a tombstone `${keyPrefix}t:<hmac>` for the cookie's remaining
 * lifetime and are published so every instance evicts its in-process entry
 * and fences verifications in flight at once.
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
      // Sealed by core (AES-256-GCM); core authenticates and decrypts it.
      return { kind: 'hit', value };
    },

    async set(key, value, ttlMs) {
      await guarded('set', () => client.set(`${prefix}s:${key}`, value, 'PX', Math.max(1, Math.ceil(ttlMs))));
    },

    async invalidate(key, ttlMs) {
      await guarded('invalidate', () =>
        client
          .multi()
          .del(`${prefix}s:${key}`)
          .set(`${prefix}t:${key}`, '1', 'PX', Math.max(1, Math.ceil(ttlMs)))
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
