import { SetMetadata, UseGuards, applyDecorators, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { requiredRule, type Identity as IdentityValue, type IdentityStatus, type RequireOptions } from '@idgate/core/adapter';
import { IdentityGuard } from './guard.js';
import { ENDPOINT_ROUTE, FASTIFY_ROUTE_CONFIG, PUBLIC, RULE } from './tokens.js';
import { nodeRequest, tags } from './platform.js';

/**
 * Require a signed-in identity on a controller or a handler (installs `IdentityGuard`);
 * a handler's rule overrides its controller's.
 * @param options.where extra condition on the identity; false answers 403 `FORBIDDEN`.
 * @example
 * @Get('admin') @RequireIdentity({ where: (id) => id.attributes.role === 'admin' }) admin() { ... }
 */
export function RequireIdentity(options: RequireOptions = {}): MethodDecorator & ClassDecorator {
  return applyDecorators(SetMetadata(RULE, requiredRule(options)), UseGuards(IdentityGuard));
}

/**
 * Opt a controller or handler out of `IdentityGuard` (e.g. when it is the global `APP_GUARD`).
 * The `protect` option still applies: it is enforced before any guard.
 * @example @Public() @Get('health') health() { return 'ok'; }
 */
export function Public(): MethodDecorator & ClassDecorator {
  return SetMetadata(PUBLIC, true);
}

/**
 * Mark a handler that runs `IdgateService.chatProxy()` / `kycSessionHandler()`: on Fastify its
 * body is capped at `bodyLimit.endpoint` with idgate's 413 answer (Express: start the app with
 * `bodyParser: false` and idgate reads the body itself). Sets the handler's Fastify route config.
 * @example @Post('chat') @RequireIdentity() @IdgateEndpoint() chat(@Req() req, @Res() res) { ... }
 */
export function IdgateEndpoint(): MethodDecorator {
  return (_target, _key, descriptor) => {
    const handler = descriptor.value as object;
    const config = (Reflect.getMetadata(FASTIFY_ROUTE_CONFIG, handler) as Record<string, unknown> | undefined) ?? {};
    Reflect.defineMetadata(FASTIFY_ROUTE_CONFIG, { ...config, [ENDPOINT_ROUTE]: true }, handler);
    return descriptor;
  };
}

function tagOf(context: ExecutionContext, name: string) {
  return tags.get(nodeRequest(context.switchToHttp().getRequest<object>()), name);
}

/**
 * The request's verified identity (or null) as a handler parameter.
 * @example @Get('me') @RequireIdentity() me(@Identity() identity: Identity) { return identity; }
 */
export const Identity: () => ParameterDecorator = createParamDecorator((_data: unknown, context: ExecutionContext): IdentityValue | null => tagOf(context, '@Identity()').state.identity);

/**
 * How the request's identity was resolved (`authenticated`, `anonymous`, `expired`, `invalid`, `unavailable`).
 * @example @Get('public') page(@IdentityStatusParam() status: IdentityStatus) { ... }
 */
export const IdentityStatusParam: () => ParameterDecorator = createParamDecorator((_data: unknown, context: ExecutionContext): IdentityStatus => tagOf(context, '@IdentityStatusParam()').state.status);
