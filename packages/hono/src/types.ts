import type { Identity, IdentityStatus } from '@idgate/core';
import type { Context } from 'hono';

/**
 * What `identityMiddleware()` sets on every request, read with
 * `c.get('identity')` or `c.var.identity`.
 * @example
 * const app = new Hono<IdgateEnv>();
 * app.get('/me', (c) => c.json({ email: c.var.identity?.email ?? null }));
 */
export interface IdgateVariables {
  /** The verified identity, or null when the request is not signed in. */
  identity: Identity | null;
  /** How the identity was resolved: `authenticated`, `anonymous`, `expired`, `invalid` or `unavailable`. */
  identityStatus: IdentityStatus;
}

/**
 * The Hono environment idgate's middleware and handlers run in: pass it to
 * `new Hono<IdgateEnv>()` (or intersect it with your own bindings) so
 * `c.var.identity` is typed on every route.
 * @example
 * const app = new Hono<IdgateEnv & { Bindings: { DB: D1Database } }>();
 */
export type IdgateEnv = { Variables: IdgateVariables };

/** Options of the Hono adapter itself, beside idgate's options. */
export interface HonoAdapterOptions {
  /**
   * The client's IP address, sent to the upstream on login (and counted by the
   * login limiter). Hono has no trust-proxy setting: behind a proxy you trust,
   * read its header here.
   * @default the socket's address on @hono/node-server, `server.requestIP()` on Bun, `info.remoteAddr` on Deno
   * @example { clientIp: (c) => c.req.header('x-real-ip') }
   */
  clientIp?: (c: Context) => string | undefined;
}
