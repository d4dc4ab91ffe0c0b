import { createHash } from 'node:crypto';
import { Redis, type Cluster } from 'ioredis';
import type { AttemptTake, CacheStore, StoreClaim, StoreEvent, StoreLookup } from '@idgate/core/adapter';

/** Options of `redisStore()`. */
export interface RedisStoreOptions {
  /**
   * An ioredis client for commands: a `Redis` (one server, or Sentinel with
   * `sentinels`/`name`) or a `Cluster`.
   */
  client: Redis | Cluster;
  /**
   * A second connection for pub/sub (a subscribed connection cannot run
   * commands). @default client.duplicate() for a `Redis`; for a `Cluster`,
   * a connection to one of its nodes, moved to another when that node goes.
   */
  subscriber?: Redis;
  /** Prefix of every key this store writes. @default 'idgate:' */
  keyPrefix?: string;
  /** Pub/sub channel for invalidations. @default `${keyPrefix}invalidate` */
  channel?: string;
  /** Per-command deadline in ms; past it the command counts as failed and idgate asks the upstream. @default 100 */
  timeout?: number;
  /**
   * Replicas that must hold a logout's tombstone (Redis `WAIT`, at most the
   * replicas the master has at that moment) before the logout counts as
   * written. With Sentinel or Cluster replicas, set it to 1: a write the
   * master took but had not replicated is lost in a failover, and a lost
   * tombstone would bring the session back. A logout that falls short
   * (within `timeout`) is written again by core until it sticks. @default 0
   */
  replicas?: number;
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

// Cross-instance single-flight: a tombstone, else the entry (unless the
// caller asked to skip it), else the verification lease if free. KEYS: entry,
// tombstone, lease [, tombstone in the pre-cluster layout]; ARGV: token,
// lease ms, skip entry ('1').
const CLAIM = `
if redis.call('EXISTS', KEYS[2]) == 1 then return {2} end
if #KEYS > 3 and redis.call('EXISTS', KEYS[4]) == 1 then return {2} end
if ARGV[3] ~= '1' then
  local v = redis.call('GET', KEYS[1])
  if v then return {1, v} end
end
if redis.call('SET', KEYS[3], ARGV[1], 'NX', 'PX', ARGV[2]) then return {3} end
return {4}
`;
// Logout: drop the entry, leave the tombstone, tell every instance.
// KEYS: entry, tombstone; ARGV: tombstone ms, channel, key.
const INVALIDATE = `
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
`;
// Give a lease back only if this token still holds it.
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * Share verified sessions between instances through Redis. Entries live under
 * `${keyPrefix}s:{<hmac>}` with a TTL (the keys are core's keyed hashes; the raw
 * identityId is never written, and the value is core's AES-256-GCM envelope,
 * so neither Redis nor its dumps hold an e-mail, a name or an attribute);
 * logouts leave a tombstone `${keyPrefix}t:{<hmac>}` for the cookie's remaining
 * lifetime and are published so every instance evicts its in-process entry
 * and fences verifications in flight at once. The verification lease
 * (cross-instance single-flight) is `${keyPrefix}l:{<hmac>}`.
 *
 * Redis Cluster: the `{<hmac>}` hash tag puts a session's entry, tombstone and
 * lease in one slot, so the lookup (MGET), the lease script and the logout
 * transaction each run on one node. Invalidations use plain PUBLISH, which a
 * cluster forwards to every node over its bus: a subscriber on any node hears
 * every logout, and PUBLISH (keyless) can ride in the logout's MULTI, which
 * SPUBLISH (whose channel is a key in its own slot) cannot. A logout is a few
 * dozen bytes per node, rare next to reads. The subscriber moves to another
 * node when its node goes, and says `resync`.
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
  const replicas = options.replicas ?? 0;
  let subscriber: Redis | undefined = options.subscriber;
  const ownsSubscriber = subscriber === undefined;
  const cluster = client.isCluster;
  const entryKey = (key: string) => `${prefix}s:{${key}}`;
  const tombKey = (key: string) => `${prefix}t:{${key}}`;
  const leaseKey = (key: string) => `${prefix}l:{${key}}`;
  // Tombstones written before the hash-tag layout (one server only: there was
  // no cluster support then) still count until they expire, so upgrading
  // brings no logged-out session back. Costs one more key in the same MGET.
  const legacyTomb = (key: string) => (cluster ? [] : [`${prefix}t:${key}`]);
  let stopSubscriber: (() => void) | undefined;

  // ioredis queues commands while disconnected; a queued command would hang
  // the request, so an unready client is a miss straight away.
  function guarded<T>(operation: string, run: () => Promise<T>): Promise<T> {
    if (client.status !== 'ready') return Promise.reject(new StoreUnavailable(`redis not ready (${client.status})`));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      // Timers run before I/O in an event-loop turn: on a busy process a reply
      // that has arrived would lose to the deadline. Deciding in the next
      // check phase lets a reply already read win.
      timer = setTimeout(() => setImmediate(() => reject(new StoreUnavailable(`redis ${operation} exceeded ${timeout} ms`))), timeout);
    });
    return Promise.race([run(), deadline]).finally(() => clearTimeout(timer));
  }

  // EVALSHA, falling back to EVAL once per node that has not seen the script.
  const shas = new Map<string, string>();
  async function script(source: string, keys: string[], args: (string | number)[]): Promise<unknown> {
    let sha = shas.get(source);
    if (sha === undefined) shas.set(source, (sha = createHash('sha1').update(source).digest('hex')));
    try {
      return await client.evalsha(sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return client.eval(source, keys.length, ...keys, ...args);
    }
  }

  return {
    async lookup(key): Promise<StoreLookup> {
      const [value, tomb, oldTomb] = await guarded('lookup', () => client.mget(entryKey(key), tombKey(key), ...legacyTomb(key)));
      if ((tomb !== null && tomb !== undefined) || (oldTomb !== null && oldTomb !== undefined)) return { kind: 'invalidated' };
      if (value === null || value === undefined) return { kind: 'miss' };
      // Sealed by core (AES-256-GCM); core authenticates and decrypts it.
      return { kind: 'hit', value };
    },

    async set(key, value, ttlMs) {
      await guarded('set', () => client.set(entryKey(key), value, 'PX', Math.max(1, Math.ceil(ttlMs))));
    },

    async claim(key, token, ttlMs, skipEntry): Promise<StoreClaim> {
      const keys = [entryKey(key), tombKey(key), leaseKey(key), ...legacyTomb(key)];
      const out = await guarded('claim', () => script(CLAIM, keys, [token, Math.max(1, Math.ceil(ttlMs)), skipEntry ? '1' : '0']));
      if (!Array.isArray(out)) throw new Error('redis claim answered an unexpected shape');
      switch (out[0]) {
        case 1:
          if (typeof out[1] !== 'string') throw new Error('redis claim answered an unexpected shape');
          return { kind: 'hit', value: out[1] };
        case 2:
          return { kind: 'invalidated' };
        case 3:
          return { kind: 'claimed' };
        case 4:
          return { kind: 'busy' };
        default:
          throw new Error('redis claim answered an unexpected shape');
      }
    },

    async release(key, token) {
      await guarded('release', () => script(RELEASE, [leaseKey(key)], [token]));
    },

    async invalidate(key, ttlMs) {
      await guarded('invalidate', async () => {
        // One script (atomic, one slot); with `replicas`, ROLE and WAIT on the
        // same connection: the tombstone counts as written once every replica
        // the master has (up to `replicas`) holds it, so a failover cannot
        // drop it. Short of that this throws, and core writes it again.
        const batch = client.pipeline();
        if (replicas > 0) batch.role();
        batch.eval(INVALIDATE, 2, entryKey(key), tombKey(key), Math.max(1, Math.ceil(ttlMs)), channel, key);
        if (replicas > 0) batch.wait(replicas, Math.max(1, Math.floor(timeout / 2)));
        const results = (await batch.exec()) ?? [];
        for (const [err] of results) {
          if (!err) continue;
          // A pipeline ioredis cannot retry after a MOVED (a failover moved the
          // slot) leaves its slot map stale: refresh it for the next attempt.
          if (client.isCluster && /^(MOVED|ASK|CLUSTERDOWN)/.test(err.message)) (client as Cluster).refreshSlotsCache();
          throw err;
        }
        if (replicas > 0) {
          const role = results[0]?.[1] as [string, unknown, unknown[]] | undefined;
          const attached = role?.[0] === 'master' && Array.isArray(role[2]) ? role[2].length : 0;
          const acked = Number(results[2]?.[1]);
          if (role?.[0] !== 'master') throw new StoreUnavailable(`redis invalidate reached a ${String(role?.[0])}, not a master`);
          if (acked < Math.min(replicas, attached)) throw new StoreUnavailable(`redis invalidate reached ${acked} of ${Math.min(replicas, attached)} replicas`);
        }
      });
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
      const onMessage = (ch: string, message: string) => {
        if (ch === channel && message.length > 0 && message.length < 200) listener({ type: 'invalidate', key: message });
      };
      if (subscriber === undefined && client.isCluster) {
        stopSubscriber = subscribeOnCluster(client as Cluster, channel, onMessage, () => listener({ type: 'resync' }));
        return;
      }
      subscriber ??= (client as Redis).duplicate();
      const sub = subscriber;
      let readyBefore = sub.status === 'ready';
      sub.on('message', onMessage);
      sub.on('ready', () => {
        // ioredis re-subscribes on reconnect (with Sentinel: to the current
        // master); what was published meanwhile is lost.
        if (readyBefore) listener({ type: 'resync' });
        readyBefore = true;
      });
      sub.on('error', () => {}); // reconnects on its own; errors surface as misses on the client
      sub.subscribe(channel).catch(() => {});
    },

    async close() {
      stopSubscriber?.();
      if (subscriber && ownsSubscriber) subscriber.disconnect();
    },
  };
}

/**
 * Listen on one node of a cluster (PUBLISH reaches every node). When that
 * node's connection ends, try the next known node (100 ms apart) and, once
 * subscribed again, say resync: messages published meanwhile are lost.
 * Returns a stop function.
 */
function subscribeOnCluster(cluster: Cluster, channel: string, onMessage: (ch: string, message: string) => void, onResync: () => void): () => void {
  let stopped = false;
  let current: Redis | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let turn = 0;
  let subscribedBefore = false;
  const later = () => {
    if (stopped || timer !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      connect();
    }, 100);
    timer.unref?.();
  };
  const connect = () => {
    if (stopped) return;
    const nodes = cluster.nodes('all');
    if (nodes.length === 0) return later(); // the cluster has not connected yet
    const { host, port, username, password, tls } = nodes[turn++ % nodes.length]!.options;
    const sub = new Redis({ host, port, username, password, tls, connectTimeout: 1_000, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    current = sub;
    sub.on('error', () => {});
    sub.on('message', onMessage);
    sub.once('end', () => {
      if (current === sub) current = undefined;
      later();
    });
    sub.subscribe(channel).then(
      () => {
        if (subscribedBefore) onResync();
        subscribedBefore = true;
      },
      () => sub.disconnect(),
    );
  };
  connect();
  return () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    current?.disconnect();
  };
}
