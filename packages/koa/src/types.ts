import type { Identity, IdentityStatus } from '@idgate/core';

declare module 'koa' {
  interface DefaultState {
    /** The verified identity, or null when the request is not signed in. Set by `identityMiddleware()`. */
    identity: Identity | null;
    /** How the identity was resolved: `authenticated`, `anonymous`, `expired`, `invalid` or `unavailable`. */
    identityStatus: IdentityStatus;
  }
  interface DefaultContext {
    /** Same as `ctx.state.identity`. */
    identity: Identity | null;
    /** Same as `ctx.state.identityStatus`. */
    identityStatus: IdentityStatus;
  }
}

export {};
