import { setImmediate } from 'node:timers';

let read = -1;
const forget = (): void => {
  read = -1;
};

/**
 * `Date.now()` as it was at this event-loop turn's first call: the cache's
 * clock when no `now` option is given. Every hit needs the time (ttl,
 * absolute lifetime, refresh-ahead, rolling cookie), and under load one turn
 * handles dozens of requests, so they share one read instead of one runtime
 * call each (bench/PROFILE.md, sixth pass). A decision is late by at most the
 * turn it is made in, as timers are. The reset uses `node:timers`'
 * `setImmediate`, which fake timers replacing the global do not hold back.
 * @example const t = turnNow(); // the same value until the loop turns
 */
export function turnNow(): number {
  if (read < 0) {
    read = Date.now();
    setImmediate(forget);
  }
  return read;
}
