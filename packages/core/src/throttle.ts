import { createHmac, randomUUID } from 'node:crypto';
import { ipVersion } from './ip.js';
import { ExpiringMap } from './expiring.js';
import type { IdgateConfig } from './config.js';
import { LoginError, LoginThrottledError, type IdgateError } from './errors.js';
import type { IdgateEvent } from './events.js';
import { normalizeEmail, normalizeIp } from './normalize.js';
import type { AttemptTake, CacheStore } from './store.js';

/**
 * idgate's own login limiter: a sliding window of failed logins per
 * normalised e-mail and per client IP, checked before any upstream call.
 *
 * Why it exists: the upstream's lockout (E006) only exists for real accounts,
 * so passing it through tells a stranger which e-mails have one. Here every
 * e-mail, existing or not, is counted the same way and refused with the same
 * answer; when the upstream's lockout fires anyway, it is recorded as a lock
 * in this limiter and answered from it.
 *
 * Why a sliding window and not INCR with a fixed window: the upstream counts
 * the last N failures within its window (the mock does exactly that). A fixed
 * window resets at its edge while the upstream still remembers failures from
 * just before it, so the upstream would lock an existing account that this
 * limiter lets through: the enumeration again. A sliding log with
 * `perEmail <= upstream threshold` and `window >= upstream window` always
 * refuses first.
 *
 * Why an attempt is counted before the upstream call and taken back after
 * (success, or no definitive answer): with "count after the failure", N
 * concurrent attempts all pass the check and the upstream sees more than N.
 *
 * Bounds: in memory, at most `max` e-mail keys and `max` IP keys (two LRUs),
 * each holding at most its limit of timestamps, each key expiring when its
 * window (or lock) ends. Eviction forgets a key's failures early: that takes
 * more than `max` distinct keys with failures within one window, and the
 * least recently used goes first, so a key under attack is the last to go.
 * With a shared store the store holds the count for every instance and
 * decides; memory records alongside and decides only when a store call fails
 * (then with what this instance saw), so a store failure never fails a login.
 */
export interface LoginThrottle {
  /**
   * Count an attempt for this e-mail and IP before the upstream call. Throws
   * `LoginThrottledError` when either is over its limit (nothing is counted
   * then), `RequestError('BAD_REQUEST')` for an e-mail or IP that is not one.
   */
  begin(email: string, ip: string | undefined): Promise<LoginAttempt>;
}

/** One counted attempt; settle it once with the upstream's outcome. */
export interface LoginAttempt {
  /** The login succeeded: the e-mail's counter is cleared, the IP's attempt taken back. */
  succeeded(): Promise<void>;
  /**
   * The login failed with `err`. A definitive refusal (`LoginError`) stays
   * counted; E006 locks the e-mail and comes back as a `LoginThrottledError`
   * to answer with; anything else (upstream unavailable) is taken back.
   */
  failed(err: IdgateError): Promise<IdgateError>;
}

/** The `loginThrottle` option after defaults (when not `false`). */
export type LoginThrottleOptions = Exclude<IdgateConfig['loginThrottle'], false>;

const NOOP_ATTEMPT: LoginAttempt = Object.freeze({ succeeded: async () => {}, failed: async (err: IdgateError) => err });

/**
 * The keyed hash (HMAC-SHA256, base64url) that stands for an e-mail or an IP
 * in the shared store, events and logs; `kind` separates the two spaces.
 * @example throttleKey(secret, 'email', 'jan@example.com') // 'Xk2…'
 */
export function throttleKey(secret: string, kind: 'email' | 'ip', value: string): string {
  return createHmac('sha256', secret).update(`login-${kind}\0${value}`).digest('base64url');
}

/**
 * What the IP limiter counts: an IPv4 address as it is, an IPv6 address by
 * its /64 (one subscriber usually holds a whole /64, so per-address counting
 * would give a single client 2^64 budgets).
 * @example ipBucket('2001:db8:1:2:aaaa::1') // '2001:db8:1:2::/64'
 */
export function ipBucket(ip: string | undefined): string {
  const normalized = normalizeIp(ip);
  if (ipVersion(normalized) !== 6) return normalized;
  const address = normalized.split('%')[0]!.toLowerCase();
  const [head = '', tail] = address.split('::') as [string, string | undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  // An embedded IPv4 tail (::ffff:1.2.3.4 style) fills two groups.
  const width = (groups: string[]) => groups.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const groups = tail === undefined ? headGroups : [...headGroups, ...new Array<string>(8 - width(headGroups) - width(tailGroups)).fill('0'), ...tailGroups];
  return `${groups.slice(0, 4).map((g) => (g.includes('.') ? g : parseInt(g, 16).toString(16))).join(':')}::/64`;
}

interface Entry {
  /** Start times of the counted attempts, oldest first; never more than the limit. */
  at: number[];
  tokens: string[];
  lockedUntil: number;
}

/** One in-memory sliding-window counter family (e-mails or IPs). */
class MemoryAttempts {
  private readonly cache: ExpiringMap<string, Entry>;
  constructor(max: number, private readonly now: () => number) {
    // The LRU's own TTL only reclaims memory; the window is enforced below on `now`.
    this.cache = new ExpiringMap<string, Entry>({ max, ttl: 1, now });
  }

  private fresh(key: string, windowMs: number, t: number): Entry | undefined {
    const entry = this.cache.get(key);
    if (!entry) return undefined;
    // Drop attempts that left the window (age >= window), as the upstream does.
    let drop = 0;
    while (drop < entry.at.length && t - entry.at[drop]! >= windowMs) drop++;
    if (drop > 0) {
      entry.at.splice(0, drop);
      entry.tokens.splice(0, drop);
    }
    return entry;
  }

  private keep(key: string, entry: Entry, windowMs: number, t: number): void {
    const until = Math.max(entry.lockedUntil, (entry.at.at(-1) ?? t) + windowMs);
    this.cache.set(key, entry, Math.max(1, until - t));
  }

  /** Record an attempt unless over the limit; `force` records anyway (the store already allowed it), keeping the newest `limit`. */
  take(key: string, token: string, limit: number, windowMs: number, force = false): AttemptTake {
    const t = this.now();
    const entry = this.fresh(key, windowMs, t) ?? { at: [], tokens: [], lockedUntil: 0 };
    let wait = entry.lockedUntil - t;
    if (entry.at.length >= limit) wait = Math.max(wait, entry.at[entry.at.length - limit]! + windowMs - t);
    if (wait > 0 && !force) return { ok: false, retryAfterMs: wait };
    entry.at.push(t);
    entry.tokens.push(token);
    if (entry.at.length > limit) {
      entry.at.splice(0, entry.at.length - limit);
      entry.tokens.splice(0, entry.tokens.length - limit);
    }
    this.keep(key, entry, windowMs, t);
    return { ok: true, token };
  }

  give(key: string, token: string): void {
    const entry = this.cache.get(key);
    const i = entry ? entry.tokens.indexOf(token) : -1;
    if (entry && i !== -1) {
      entry.at.splice(i, 1);
      entry.tokens.splice(i, 1);
    }
  }

  /** Lock for at least `ms`; answers how long the key is now refused. */
  lock(key: string, ms: number, windowMs: number): number {
    const t = this.now();
    const entry = this.fresh(key, windowMs, t) ?? { at: [], tokens: [], lockedUntil: 0 };
    entry.lockedUntil = Math.max(entry.lockedUntil, t + ms);
    this.keep(key, entry, windowMs, t);
    return entry.lockedUntil - t;
  }

  clear(key: string): void {
    this.cache.delete(key);
  }

  get size(): number {
    return this.cache.size;
  }
}

type Counter = { reason: 'email' | 'ip'; key: string; limit: number; memory: MemoryAttempts };
type Taken = { counter: Counter; token: string; inStore: boolean };

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

function hasAttemptStore(store: CacheStore | undefined): store is CacheStore & Required<Pick<CacheStore, 'takeAttempt' | 'returnAttempt' | 'lockAttempts' | 'clearAttempts'>> {
  return !!store && typeof store.takeAttempt === 'function' && typeof store.returnAttempt === 'function' && typeof store.lockAttempts === 'function' && typeof store.clearAttempts === 'function';
}

/**
 * Build the login limiter from a resolved config (`loginThrottle: false`
 * gives one that never refuses). Uses the shared store when it implements
 * the attempt methods, and this instance's memory always.
 * @example
 * const throttle = createLoginThrottle(config, emit);
 * const attempt = await throttle.begin(email, req.ip); // throws LoginThrottledError
 */
export function createLoginThrottle(config: IdgateConfig, emit: (event: IdgateEvent) => void = () => {}): LoginThrottle & { sizes(): { email: number; ip: number } } {
  const options: LoginThrottleOptions | false = config.loginThrottle;
  if (options === false) return { begin: async () => NOOP_ATTEMPT, sizes: () => ({ email: 0, ip: 0 }) };
  const now = config.now ?? Date.now;
  const { secret } = config;
  const windowMs = options.window;
  const emails = new MemoryAttempts(options.max, now);
  const ips = new MemoryAttempts(options.max, now);
  const store = hasAttemptStore(config.store) ? config.store : undefined;

  function storeFailed(operation: string, err: unknown): void {
    emit({ type: 'store-error', operation, message: err instanceof Error ? err.message : String(err) });
  }

  // With a store, the store decides (it counts for every instance) and memory
  // records alongside, as the fallback for when the store fails; without one,
  // or when it fails, memory decides.
  async function take(counter: Counter, token: string): Promise<Taken | { counter: Counter; retryAfterMs: number }> {
    if (store) {
      try {
        const shared = await store.takeAttempt(counter.key, token, counter.limit, windowMs);
        if (!shared.ok) return { counter, retryAfterMs: shared.retryAfterMs };
        counter.memory.take(counter.key, token, counter.limit, windowMs, true);
        return { counter, token, inStore: true };
      } catch (err) {
        storeFailed('take-attempt', err);
      }
    }
    const local = counter.memory.take(counter.key, token, counter.limit, windowMs);
    return local.ok ? { counter, token, inStore: false } : { counter, retryAfterMs: local.retryAfterMs };
  }

  async function give(taken: Taken): Promise<void> {
    taken.counter.memory.give(taken.counter.key, taken.token);
    if (store && taken.inStore) await store.returnAttempt(taken.counter.key, taken.token).catch((err: unknown) => storeFailed('return-attempt', err));
  }

  return {
    sizes: () => ({ email: emails.size, ip: ips.size }),
    async begin(rawEmail, ip) {
      const counters: Counter[] = [];
      // Both throw BAD_REQUEST for what the upstream client would refuse anyway.
      const email = normalizeEmail(rawEmail);
      const bucket = ipBucket(ip);
      if (options.perIp !== false) counters.push({ reason: 'ip', key: throttleKey(secret, 'ip', bucket), limit: options.perIp, memory: ips });
      if (options.perEmail !== false) counters.push({ reason: 'email', key: throttleKey(secret, 'email', email), limit: options.perEmail, memory: emails });
      const token = randomUUID();
      const results = await Promise.all(counters.map((c) => take(c, token)));
      const refused = results.filter((r): r is { counter: Counter; retryAfterMs: number } => 'retryAfterMs' in r);
      const taken = results.filter((r): r is Taken => 'token' in r);
      if (refused.length > 0) {
        await Promise.all(taken.map(give));
        // The attempt may proceed only when every counter frees: answer the longest wait.
        const worst = refused.reduce((a, b) => (b.retryAfterMs > a.retryAfterMs ? b : a));
        throw new LoginThrottledError(worst.counter.reason, worst.counter.key, seconds(worst.retryAfterMs));
      }

      let settled = false;
      const emailTaken = taken.find((t) => t.counter.reason === 'email');
      return {
        async succeeded() {
          if (settled) return;
          settled = true;
          await Promise.all(
            taken.map(async (t) => {
              if (t.counter.reason === 'ip') return give(t);
              t.counter.memory.clear(t.counter.key);
              if (store) await store.clearAttempts(t.counter.key).catch((err: unknown) => storeFailed('clear-attempts', err));
            }),
          );
        },
        async failed(err) {
          if (settled) return err;
          settled = true;
          if (!(err instanceof LoginError)) {
            // No definitive answer (upstream down, bad request): it does not count.
            await Promise.all(taken.map(give));
            return err;
          }
          if (err.upstreamCode !== 'E006') return err;
          // The upstream's own lockout: lock the e-mail here too and answer
          // from the limiter, exactly as a refusal before the call would be.
          const lockMs = (err.retryAfter ?? seconds(windowMs)) * 1000;
          const key = emailTaken?.counter.key ?? throttleKey(secret, 'email', email);
          const waitMs = emails.lock(key, lockMs, windowMs);
          if (store) await store.lockAttempts(key, lockMs).catch((e: unknown) => storeFailed('lock-attempts', e));
          return new LoginThrottledError('email', key, seconds(waitMs), { upstreamCode: 'E006', cause: err });
        },
      };
    },
  };
}
