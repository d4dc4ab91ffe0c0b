import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import cookie from '@fastify/cookie';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { conformanceModule } from './nestjs-app.js';
import type { AdapterUnderTest } from './types.js';

export const nestjsFastifyAdapter: AdapterUnderTest = {
  name: 'nestjs-fastify',
  async start(options) {
    const module = conformanceModule(options, (res, withParser) => {
      // @fastify/cookie's API when it is registered, else the plain header API: both must keep idgate's cookie.
      const reply = res as { setCookie(name: string, value: string, options: { path: string }): void; header(name: string, value: string): void };
      if (withParser) reply.setCookie('theme', 'dark', { path: '/' });
      else reply.header('set-cookie', 'theme=dark; Path=/');
    });
    const adapter = new FastifyAdapter({ trustProxy: options.trustProxy === true });
    const app = await NestFactory.create<NestFastifyApplication>(module, adapter, { bodyParser: false, logger: false, abortOnError: false });
    if (options.cookieParser) await app.register(cookie as never);
    await app.listen(0, '127.0.0.1');
    const server = app.getHttpServer() as Server;
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      close: async () => { server.closeAllConnections(); await app.close(); },
    };
  },
};
