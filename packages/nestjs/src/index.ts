/**
 * `@idgate/nestjs`: idgate for NestJS on `@nestjs/platform-express` and `@nestjs/platform-fastify`.
 * @module
 */
export { IdgateModule, type IdgateModuleOptions, type IdgateModuleAsyncOptions, type IdgateRoutes } from './module.js';
export { IdentityGuard } from './guard.js';
export { RequireIdentity, Public, Identity, IdentityStatusParam, IdgateEndpoint } from './decorators.js';
export { IdgateService, type IdgateHandler } from './service.js';
export { IDGATE } from './tokens.js';
export type { Identity as IdentityValue, IdentityStatus, IdgateOptions, RequireOptions, Idgate, EndpointSource, IdentityEndpoint } from '@idgate/core';
export { createIdgate } from '@idgate/core';
