import { expressAdapter } from './express.js';
import { fastifyAdapter } from './fastify.js';
import { honoAdapter } from './hono.js';
import { koaAdapter } from './koa.js';
import { nestjsExpressAdapter } from './nestjs-express.js';
import { nestjsFastifyAdapter } from './nestjs-fastify.js';
import type { AdapterUnderTest } from './types.js';

/** Every adapter the conformance suite runs against. */
export const adapters: AdapterUnderTest[] = [expressAdapter, koaAdapter, fastifyAdapter, honoAdapter, nestjsExpressAdapter, nestjsFastifyAdapter];
