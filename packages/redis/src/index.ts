import type { Redis } from 'ioredis';
import type { AttemptTake, CacheStore, StoreEvent, StoreLookup } from '@idgate/core/adapter';

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

// Login throttling: a sliding log per key (a sorted set of attempt start times,
// scored by the Redis server's clock so instances with skewed clocks agree),
// plus a lock key for the upstream's own lockout. One script, so the check
// and the record are atomic across instances. Hash tags keep both keys in one
// cluster slot. The set never holds more than `limit` members.
const TAKE_ATTEMPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local locked = redis.call('PTTL', KEYS[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
local wait = 0
if locked > 0 then wait = locked end
if n >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')
  local free = tonumber(oldest[2]) + window - now
  if free > wait then wait = free end
end
if wait > 0 then return {0, wait} end
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], window)
return {1, 0}
`;
// Lock for at least ARGV[1] ms; a longer lock already there stays.
const LOCK_ATTEMPTS = `
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], '1', 'PX', ARGV[1]) end
return 1
`;

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
 *
 * Login throttling (core's `loginThrottle`): attempts per keyed hash of an
 * e-mail or IP under `${keyPrefix}a:{<hmac>}` (a sorted set, at most `limit`
 * members, expiring with its window) and the upstream's lockout under
 * `${keyPrefix}al:{<hmac>}`; the raw e-mail or IP is never written.
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

    async takeAttempt(key, token, limit, windowMs): Promise<AttemptTake> {
      const out = await guarded('take-attempt', () => client.eval(TAKE_ATTEMPT, 2, `${prefix}a:{${key}}`, `${prefix}al:{${key}}`, token, limit, windowMs));
      if (!Array.isArray(out) || typeof out[0] !== 'number' || typeof out[1] !== 'number') throw new Error('redis take-attempt answered an unexpected shape');
      return out[0] === 1 ? { ok: true, token } : { ok: false, retryAfterMs: Math.max(1, out[1]) };
    },

    async returnAttempt(key, token) {
      await guarded('return-attempt', () => client.zrem(`${prefix}a:{${key}}`, token));
    },

    async lockAttempts(key, ms) {
      await guarded('lock-attempts', () => client.eval(LOCK_ATTEMPTS, 1, `${prefix}al:{${key}}`, Math.max(1, Math.ceil(ms))));
    },

    async clearAttempts(key) {
      await guarded('clear-attempts', () => client.del(`${prefix}a:{${key}}`, `${prefix}al:{${key}}`));
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
