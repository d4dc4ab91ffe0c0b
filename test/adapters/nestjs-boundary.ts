// The boundary suite's app (test/boundary.test.ts) on NestJS: routes that rely on `protect`
// alone, public routes and a catch-all, each handler saying which route ran.
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Controller, Get, Module, Post, Inject, Req, Res, type DynamicModule, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Identity, IdgateModule, IdgateService, type IdentityValue } from '@idgate/nestjs';
import type { IdgateOptions } from '@idgate/core';

function boundaryModule(idgate: IdgateOptions, wildcard: string): DynamicModule {
  @Controller()
  class RoutesController {
    constructor(@Inject(IdgateService) private readonly service: IdgateService) {}
    @Get('members') members() { return { route: 'members' }; }
    @Get('members/area') area() { return { route: 'members' }; }
    @Get(`members/${wildcard}`) rest() { return { route: 'members' }; }
    @Get('account') account(@Identity() identity: IdentityValue | null) { return { route: 'account', identity: identity?.id ?? null }; }
    @Get('public') public() { return { route: 'public' }; }
    @Get('login') login() { return { route: 'login' }; }
    @Post('login') signIn(@Req() req: object, @Res() res: object) { return this.service.login()(req, res); }
    @Get(wildcard) catchall() { return { route: 'catchall' }; }
  }
  @Module({})
  class BoundaryModule {}
  return { module: BoundaryModule, imports: [IdgateModule.forRoot(idgate)], controllers: [RoutesController] };
}

async function running(app: INestApplication) {
  await app.listen(0, '127.0.0.1');
  const server = app.getHttpServer() as Server;
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => { server.closeAllConnections(); await app.close(); },
  };
}

/** Nest on Express; non-default: case-sensitive and strict routing. */
export async function nestjsExpressBoundary(idgate: IdgateOptions, nonDefault: boolean) {
  const app = await NestFactory.create<NestExpressApplication>(boundaryModule(idgate, '{*rest}'), { bodyParser: false, logger: false });
  if (nonDefault) { app.set('case sensitive routing', true); app.set('strict routing', true); }
  return running(app);
}

/** Nest on Fastify; non-default: the router settings of the Fastify starter. */
export async function nestjsFastifyBoundary(idgate: IdgateOptions, nonDefault: boolean) {
  const adapter = new FastifyAdapter(nonDefault ? { routerOptions: { caseSensitive: false, ignoreTrailingSlash: true, ignoreDuplicateSlashes: true }, useSemicolonDelimiter: true } : {});
  return running(await NestFactory.create(boundaryModule(idgate, '*'), adapter, { bodyParser: false, logger: false }));
}
