import type { EndpointSource, Identity, IdentityStatus, Idgate, RequireOptions } from '@idgate/core';
import type { onRequestHookHandler, preHandlerHookHandler, RouteHandlerMethod } from 'fastify';

/**
 * What the plugin decorates the Fastify instance with as `app.idgate`.
 * @example
 * app.post('/login', app.idgate.loginHandler());
 */
export interface IdgateDecorator {
  /** The gate behind the plugin: its config, verifier and upstream client. */
  readonly gate: Idgate;
  /** POST handler that signs in: JSON or urlencoded `{ email, password, returnTo? }`. */
  loginHandler(): RouteHandlerMethod;
  /** POST handler that signs out and clears the cookie. */
  logoutHandler(): RouteHandlerMethod;
  /** Forward the request to the chat API as the verified identity. */
  chatProxy(forwarder: EndpointSource): RouteHandlerMethod;
  /** Answer a KYC session for the verified identity. */
  kycSessionHandler<O>(client: EndpointSource<O>, options?: O): RouteHandlerMethod;
}

/**
 * A hook that requires an identity; fits both `onRequest` and `preHandler`.
 * @example
 * app.get('/api/me', { onRequest: app.requireIdentity() }, async (request) => request.identity);
 */
export type RequireIdentityHook = preHandlerHookHandler & onRequestHookHandler;

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified identity, or null when the request is not signed in. Set by the idgate plugin. */
    identity: Identity | null;
    /** How the identity was resolved: `authenticated`, `anonymous`, `expired`, `invalid` or `unavailable`. */
    identityStatus: IdentityStatus;
  }
  interface FastifyContextConfig {
    /** Require an identity on this route: `'required'`, or `{ where }` for a predicate (403 when false). */
    identity?: 'required' | RequireOptions;
  }
  interface FastifyInstance {
    /** A `preHandler` that requires an identity; `{ where }` adds a predicate (403 when false). */
    requireIdentity(options?: RequireOptions): RequireIdentityHook;
    /** idgate's route handlers and the gate behind them. */
    idgate: IdgateDecorator;
  }
}
