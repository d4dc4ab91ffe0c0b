// Type tests: compiled by the root `tsc -p tsconfig.json`, never run. They use
// the public API the way the README does; each @ts-expect-error proves a wrong
// use fails to compile.
import express from 'express';
import { expectTypeOf } from 'vitest';
import {
  chatProxy,
  createIdgate,
  identityMiddleware,
  kycSessionHandler,
  loginHandler,
  logoutHandler,
  requireIdentity,
  type EndpointSource,
  type Identity,
  type IdentityStatus,
} from '@idgate/express';

declare const forwarder: EndpointSource;
declare const kyc: EndpointSource<{ formId: string }>;

const app = express();
app.use(identityMiddleware());
app.use(identityMiddleware({ protect: ['/account/*', /^\/api\//], loginUrl: '/signin', cookie: { sameSite: 'strict' } }));
app.use(identityMiddleware(createIdgate({ upstreamUrl: 'http://127.0.0.1:4010' })));
app.post('/login', loginHandler());
app.post('/logout', logoutHandler());
app.post('/chat', requireIdentity(), chatProxy(forwarder));
app.post('/kyc/session', requireIdentity(), kycSessionHandler(kyc, { formId: 'f1' }));

app.get('/account', requireIdentity(), (req, res) => {
  expectTypeOf(req.identity).toEqualTypeOf<Identity | null>();
  expectTypeOf(req.identityStatus).toEqualTypeOf<IdentityStatus>();
  expectTypeOf(req.identity!.verifiedAt).toEqualTypeOf<Date>();
  // @ts-expect-error Identity has no such field
  res.json(req.identity?.nonexistentField);
});
app.get('/admin', requireIdentity({ where: (id) => id.attributes.role === 'admin' }), (_req, res) => res.end());

// @ts-expect-error an unknown option is a compile error, not a silent no-op
identityMiddleware({ protekt: ['/account'] });
// @ts-expect-error `where` must answer a boolean
requireIdentity({ where: (id) => id.email });
// @ts-expect-error the KYC options are the client's own type
kycSessionHandler(kyc, { formId: 1 });
// @ts-expect-error identityStatus is a closed set
const status: IdentityStatus = 'logged-in';
void status;
