import type { EndpointSource, IdgateOptions } from '@idgate/core';

/** What a conformance app is started with. */
export interface AppOptions {
  idgate: IdgateOptions;
  /** Let the framework trust X-Forwarded-* (Express 'trust proxy', Koa app.proxy, Fastify trustProxy; Hono, which has no such setting: a `clientIp` reading X-Forwarded-For). */
  trustProxy?: boolean;
  /** Mount the framework's usual cookie parser before idgate. */
  cookieParser?: boolean;
  /** Mounted as POST /chat behind requireIdentity(), via the adapter's chatProxy(). */
  chat?: EndpointSource;
  /** Mounted as POST /kyc/session behind requireIdentity(), via kycSessionHandler(client, options). */
  kyc?: { client: EndpointSource<any>; options?: unknown };
}

/** A running app: its base URL and how to stop it. */
export interface RunningApp {
  url: string;
  close(): Promise<void>;
}

/**
 * Each adapter contributes only this: an app with the same routes.
 * - GET  /public            -> 200 { identity, status }
 * - GET  /account           -> requireIdentity(), 200 { identity }
 * - GET  /api/me            -> requireIdentity(), 200 { identity }
 * - GET  /admin             -> requireIdentity({ where: plan === 'enterprise' })
 * - GET  /members/area      -> public route covered by the `protect: ['/members/*']` option
 * - GET  /members/required  -> requireIdentity() on a path the `protect` option already covers
 * - GET  /theme             -> public; sets its own cookie `theme=dark` with the framework's usual API, 200 { status }
 * - GET  /cookie-view?name= -> public; 200 { identity: id or null, status, parsed: the framework's cookie parser's value of
 *                              `name` (cookie-parser, ctx.cookies, @fastify/cookie, getCookie; null without one), header: the raw Cookie header }
 * - GET  /login             -> 200 text/html (public)
 * - POST /login, POST /logout -> loginHandler(), logoutHandler()
 * - POST /chat, POST /kyc/session -> requireIdentity() + chatProxy() / kycSessionHandler(), when given
 */
export interface AdapterUnderTest {
  name: string;
  start(options: AppOptions): Promise<RunningApp>;
}
