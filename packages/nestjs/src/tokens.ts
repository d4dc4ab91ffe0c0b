/** Injection token of the module's gate (`@Inject(IDGATE) gate: Idgate`). */
export const IDGATE = Symbol.for('idgate.nestjs.gate');
/** @internal the resolved module settings. */
export const IDGATE_SETTINGS = Symbol.for('idgate.nestjs.settings');
/** @internal the module's own routes. */
export const IDGATE_ROUTES = Symbol.for('idgate.nestjs.routes');
/** @internal metadata: the access rule of `@RequireIdentity()`. */
export const RULE = 'idgate:rule';
/** @internal metadata: `@Public()`. */
export const PUBLIC = 'idgate:public';
/** @internal Fastify route config key that marks an identity endpoint route (`@IdgateEndpoint()`). */
export const ENDPOINT_ROUTE = 'idgateEndpoint';
/** @internal Nest's Fastify platform reads a handler's route config from this metadata key. */
export const FASTIFY_ROUTE_CONFIG = '__fastify_route_config__';
