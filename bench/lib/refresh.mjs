/**
 * How often idgate's refresh-ahead re-verifies a cached identity, from the
 * idgate options the bench passes (its defaults: ttl 60 s, capped by
 * upstreamIdle 30 min, times refreshAhead 0.5): the schedule the re-fetching
 * floor (`*-refresh`, servers/shared.mjs) follows, and what the runner allows it.
 */
export function refreshEveryMs(idgate = {}) {
  const cache = idgate.cache ?? {};
  return Math.min(cache.ttl ?? 60_000, cache.upstreamIdle ?? 1_800_000) * (cache.refreshAhead ?? 0.5);
}

/**
 * The idgate options of c₀ (`idgate-quiet`, section 1): a cache ttl past a
 * round's length, so that its process, like the floor b′, calls the upstream
 * only for its first fill (PROFILE.md, seventh pass).
 */
export const QUIET_IDGATE = { cache: { ttl: 30 * 60_000 } };
