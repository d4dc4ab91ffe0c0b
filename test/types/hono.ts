// Type tests: compiled by the root `tsc -p tsconfig.json`, never run.
import { Hono } from 'hono';
import { expectTypeOf } from 'vitest';
import {
  chatProxy,
  createIdgate,
  identity,
  identityMiddleware,
  kycSessionHandler,
  loginHandler,
  logoutHandler,
  requireIdentity,
  type EndpointSource,
  type Identity,
  type IdentityStatus,
  type IdgateEnv,
} from '@idgate/hono';

declare const forwarder: EndpointSource;
declare const kyc: EndpointSource<{ formId: string }>;

const app = new Hono<IdgateEnv>();
app.use(identityMiddleware());
app.use(identity({ protect: ['/account/*'], loginUrl: '/signin' }));
app.use(identityMiddleware(createIdgate({ upstreamUrl: 'http://127.0.0.1:4010' }), { clientIp: (c) => c.req.header('x-real-ip') }));
app.use(async (c, next) => {
  expectTypeOf(c.var.identity).toEqualTypeOf<Identity | null>();
  expectTypeOf(c.get('identity')).toEqualTypeOf<Identity | null>();
  expectTypeOf(c.var.identityStatus).toEqualTypeOf<IdentityStatus>();
  await next();
});

app.get('/account', requireIdentity(), (c) => {
  expectTypeOf(c.var.identity).toEqualTypeOf<Identity | null>();
  // @ts-expect-error Identity has no such field
  return c.json({ x: c.var.identity?.nonexistentField });
});
app.get('/admin', requireIdentity({ where: (id) => id.attributes.role === 'admin' }), (c) => c.json({ email: c.var.identity?.email }));
app.post('/login', loginHandler());
app.post('/logout', logoutHandler());
app.post('/chat', requireIdentity(), chatProxy(forwarder));
app.post('/kyc/session', requireIdentity(), kycSessionHandler(kyc, { formId: 'f1' }));

// The environment composes with an app's own bindings.
const withBindings = new Hono<IdgateEnv & { Bindings: { REGION: string } }>();
withBindings.use(identityMiddleware());
withBindings.get('/', (c) => c.text(`${c.env.REGION} ${c.var.identity?.email ?? ''}`));

// @ts-expect-error the predicate gets an Identity, whose fields are known
requireIdentity({ where: (id) => id.nonexistentField === 1 });
// @ts-expect-error an unknown option is a compile error
identityMiddleware({ protekt: ['/account'] });
// @ts-expect-error the adapter's own options take a function of the Context
identityMiddleware({}, { clientIp: '127.0.0.1' });
// @ts-expect-error kycSessionHandler's options are the client's
kycSessionHandler(kyc, { formId: 1 });
// @ts-expect-error identityStatus is not an Identity
const wrong: Identity = new Hono<IdgateEnv>().get('/', (c) => c.json({})) && (null as unknown as IdentityStatus);
void wrong;
// Without IdgateEnv, Hono does not know the variable: the app must opt in.
new Hono().get('/', (c) => {
  // @ts-expect-error 'identity' is not a variable of a plain Hono app
  const id: Identity | null = c.var.identity;
  return c.json({ id });
});
