// Type tests: compiled by the root `tsc -p tsconfig.json`, never run.
import Fastify from 'fastify';
import { expectTypeOf } from 'vitest';
import {
  chatProxy,
  createIdgate,
  idgate,
  kycSessionHandler,
  loginHandler,
  logoutHandler,
  requireIdentity,
  type EndpointSource,
  type Identity,
  type IdentityStatus,
  type Idgate,
} from '@idgate/fastify';
import defaultExport from '@idgate/fastify';

declare const forwarder: EndpointSource;
declare const kyc: EndpointSource<{ formId: string }>;

const app = Fastify();
await app.register(idgate, { protect: ['/account/*'], loginUrl: '/signin' });
await app.register(defaultExport, createIdgate());
expectTypeOf(app.idgate.gate).toEqualTypeOf<Idgate>();

app.get('/account', { config: { identity: 'required' } }, async (request) => {
  expectTypeOf(request.identity).toEqualTypeOf<Identity | null>();
  expectTypeOf(request.identityStatus).toEqualTypeOf<IdentityStatus>();
  // @ts-expect-error Identity has no such field
  return request.identity?.nonexistentField;
});
app.get('/admin', { config: { identity: { where: (id) => id.attributes.role === 'admin' } } }, async () => 'ok');
app.get('/api/me', { preHandler: app.requireIdentity() }, async (request) => request.identity);
app.get('/api/admin', { preHandler: [requireIdentity({ where: (id) => id.email.endsWith('@example.com') })] }, async () => 'ok');
app.post('/login', app.idgate.loginHandler());
app.post('/logout', logoutHandler());
app.post('/login-too', loginHandler());
app.post('/chat', { preHandler: app.requireIdentity() }, chatProxy(forwarder));
app.post('/kyc/session', { config: { identity: 'required' } }, app.idgate.kycSessionHandler(kyc, { formId: 'f1' }));
app.post('/kyc/plain', kycSessionHandler(kyc, { formId: 'f2' }));

// (Fastify infers route config from the literal and intersects it with
// FastifyContextConfig, so a wrong string such as 'optional' is not caught;
// the predicate's parameter is still typed.)
// @ts-expect-error `where` in route config receives an Identity
app.get('/x', { config: { identity: { where: (id) => id.nonexistentField === 1 } } }, async () => null);
// @ts-expect-error `where` receives an Identity
app.get('/y', { preHandler: app.requireIdentity({ where: (id) => id.nonexistentField === 1 }) }, async () => null);
// @ts-expect-error an unknown option is a compile error
await app.register(idgate, { protekt: ['/account'] });
