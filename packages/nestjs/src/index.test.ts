// @idgate/nestjs beyond the conformance table (test/adapters/nestjs-*.ts): forRootAsync,
// a global IdentityGuard with @Public(), a controller rule overridden by a handler's,
// and IdgateService's sign-in / sign-out helpers in a user's controller; on both platforms.
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { get as get_, type IncomingMessage, type Server } from 'node:http';
import { Controller, Get, Inject, Module, Post, Req, Res, UseGuards, type INestApplication } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockUpstream, MOCK_API_KEY, type MockUpstream } from '@idgate/mock-upstream';
import { Identity, IdentityGuard, IdgateModule, IdgateService, Public, RequireIdentity, type IdentityValue } from './index.js';

const CONFIG = Symbol('config');
let mock: MockUpstream;

@Module({ providers: [{ provide: CONFIG, useFactory: () => ({ upstreamUrl: mock.url, apiKey: MOCK_API_KEY, secret: 'nestjs-unit-test-secret-0123456789' }) }], exports: [CONFIG] })
class ConfigModule {}

@Controller()
class OpenController {
  constructor(@Inject(IdgateService) private readonly idgate: IdgateService) {}

  @Get('open')
  @Public()
  open(@Identity() identity: IdentityValue | null) {
    return { signedIn: identity !== null };
  }

  @Get('closed')
  closed(@Identity() identity: IdentityValue) {
    return { email: identity.email };
  }

  @Post('signin')
  @Public()
  signIn(@Req() req: object, @Res() res: object) {
    return this.idgate.login()(req, res);
  }

  @Post('signout')
  @Public()
  signOut(@Req() req: object, @Res() res: object) {
    return this.idgate.logout()(req, res);
  }
}

@Controller('staff')
@RequireIdentity({ where: (id) => id.attributes.plan === 'enterprise' })
class StaffController {
  @Get('any')
  any() {
    return { ok: true };
  }

  @Get('self')
  @RequireIdentity()
  self() {
    return { ok: true };
  }
}

@Module({
  imports: [IdgateModule.forRootAsync({ imports: [ConfigModule], inject: [CONFIG], useFactory: (config: object) => ({ ...config }) })],
  controllers: [OpenController, StaffController],
  providers: [{ provide: APP_GUARD, useClass: IdentityGuard }],
})
class AppModule {}

@Controller()
class GuardedController {
  @Get('guarded')
  @UseGuards(IdentityGuard)
  guarded() {
    return { ok: true };
  }
}

@Module({ controllers: [GuardedController] })
class WithoutIdgateModule {}

const platforms: [string, () => Promise<INestApplication>, () => Promise<INestApplication>][] = [
  ['express', () => NestFactory.create(AppModule, { bodyParser: false, logger: false }), () => NestFactory.create(WithoutIdgateModule, { logger: false })],
  ['fastify', () => NestFactory.create(AppModule, new FastifyAdapter(), { bodyParser: false, logger: false }), () => NestFactory.create(WithoutIdgateModule, new FastifyAdapter(), { logger: false })],
];

beforeAll(async () => {
  mock = await startMockUpstream({ port: 0 });
});
afterAll(async () => {
  await mock.close();
});

describe.each(platforms)('@idgate/nestjs on %s', (_name, create, createWithout) => {
  const apps: INestApplication[] = [];
  const listen = async (app: INestApplication) => {
    apps.push(app);
    await app.listen(0, '127.0.0.1');
    return `http://127.0.0.1:${((app.getHttpServer() as Server).address() as AddressInfo).port}`;
  };
  let url: string;
  beforeAll(async () => {
    url = await listen(await create());
  });
  afterAll(async () => {
    for (const app of apps) (app.getHttpServer() as Server).closeAllConnections(), await app.close();
  });
  const signIn = async () => {
    const res = await fetch(`${url}/signin`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'demo@example.com', password: 'demo-password' }) });
    expect(res.status).toBe(200);
    return res.headers.getSetCookie()[0]!.split(';')[0]!;
  };
  const get = (path: string, cookie?: string, accept = 'application/json') => fetch(`${url}${path}`, { redirect: 'manual', headers: { accept, ...(cookie ? { cookie } : {}) } });

  it('forRootAsync builds the gate from an injected provider; IdgateService signs in and out', async () => {
    const cookie = await signIn();
    expect(await (await get('/closed', cookie)).json()).toEqual({ email: 'demo@example.com' });
    const out = await fetch(`${url}/signout`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: '{}' });
    expect(out.status).toBe(200);
    expect(out.headers.getSetCookie()[0]).toMatch(/^identityId=; /);
    expect((await get('/closed', cookie)).status).toBe(401);
  });

  it('a global IdentityGuard protects every route but @Public() ones: 401 for an API call, 303 for a navigation', async () => {
    expect(await (await get('/open')).json()).toEqual({ signedIn: false });
    const api = await get('/closed');
    expect(api.status).toBe(401);
    expect(await api.json()).toMatchObject({ error: 'UNAUTHENTICATED' });
    // fetch() always sends Sec-Fetch-Mode: cors (an API call); a browser navigation, over node:http.
    const page = await new Promise<IncomingMessage>((resolve, reject) => get_(`${url}/closed`, { headers: { accept: 'text/html', 'sec-fetch-mode': 'navigate' } }, resolve).on('error', reject));
    page.resume();
    expect(page.statusCode).toBe(303);
    expect(page.headers.location).toBe('/login?returnTo=%2Fclosed');
  });

  it("a controller's @RequireIdentity({ where }) applies to its handlers; a handler's own rule overrides it", async () => {
    const cookie = await signIn();
    const denied = await get('/staff/any', cookie);
    expect(denied.status).toBe(403);
    expect(await denied.json()).toMatchObject({ error: 'FORBIDDEN' });
    expect((await get('/staff/self', cookie)).status).toBe(200);
    expect((await get('/staff/self')).status).toBe(401);
  });

  it('IdentityGuard without IdgateModule fails loudly (500), never lets the request through', async () => {
    const bare = await listen(await createWithout());
    const res = await fetch(`${bare}/guarded`, { headers: { accept: 'application/json' } });
    expect(res.status).toBe(500);
  });
});
