import type { Identity, IdentityStatus } from '@idgate/core';

declare global {
  // Express's own augmentation point; `namespace` is how its types are extended.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The verified identity, or null when the request is not signed in. Set by `identityMiddleware()`. */
      identity: Identity | null;
      /** How the identity was resolved: `authenticated`, `anonymous`, `expired`, `invalid` or `unavailable`. */
      identityStatus: IdentityStatus;
    }
  }
}

export {};
