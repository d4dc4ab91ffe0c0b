// Type tests: compiled by the root `tsc -p tsconfig.json`, never run.
import Koa from 'koa';
import Router from '@koa/router';
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
} from '@idgate/koa';

declare const forwarder: EndpointSource;
declare const kyc: EndpointSource<{ formId: string }>;

const app = new Koa();
app.use(identityMiddleware());
app.use(identityMiddleware({ protect: ['/account/*'], loginUrl: '/signin' }));
app.use(identityMiddleware(createIdgate({ upstreamUrl: 'http://127.0.0.1:4010' })));
app.use((ctx, next) => {
  expectTypeOf(ctx.state.identity).toEqualTypeOf<Identity | null>();
  expectTypeOf(ctx.state.identityStatus).toEqualTypeOf<IdentityStatus>();
  expectTypeOf(ctx.identity).toEqualTypeOf<Identity | null>();
  return next();
});

const router = new Router();
router.get('/account', requireIdentity(), (ctx) => {
  expectTypeOf(ctx.state.identity).toEqualTypeOf<Identity | null>();
  // @ts-expect-error Identity has no such field
  ctx.body = ctx.state.identity?.nonexistentField;
});
router.get('/admin', requireIdentity({ where: (id) => id.attributes.role === 'admin' }), (ctx) => {
  ctx.body = { email: ctx.identity?.email };
});
router.post('/login', loginHandler());
router.post('/logout', logoutHandler());
router.post('/chat', requireIdentity(), chatProxy(forwarder));
router.post('/kyc/session', requireIdentity(), kycSessionHandler(kyc, { formId: 'f1' }));
app.use(router.routes()).use(router.allowedMethods());

// @ts-expect-error identityStatus is not an Identity
const wrong: Identity = app.context.identityStatus;
void wrong;
// @ts-expect-error an unknown option is a compile error
identityMiddleware({ protekt: ['/account'] });
