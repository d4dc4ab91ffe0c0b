import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import cookieParser from 'cookie-parser';
import { conformanceModule } from './nestjs-app.js';
import type { AdapterUnderTest } from './types.js';

export const nestjsExpressAdapter: AdapterUnderTest = {
  name: 'nestjs-express',
  async start(options) {
    const module = conformanceModule(options, (res, withParser) => {
      const r = res as { cookie(name: string, value: string): void; setHeader(name: string, value: string[]): void; getHeader(name: string): unknown };
      if (withParser) r.cookie('theme', 'dark');
      else r.setHeader('Set-Cookie', [...[r.getHeader('Set-Cookie') ?? []].flat() as string[], 'theme=dark; Path=/']);
    });
    // bodyParser: false: idgate reads login, logout, chat and KYC bodies itself, with its own limits.
    const app = await NestFactory.create<NestExpressApplication>(module, { bodyParser: false, logger: false, abortOnError: false });
    if (options.trustProxy) app.set('trust proxy', true);
    if (options.cookieParser) app.use(cookieParser());
    await app.listen(0, '127.0.0.1');
    const server = app.getHttpServer() as Server;
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      close: async () => { server.closeAllConnections(); await app.close(); },
    };
  },
};
