import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { type AccessRule } from '@idgate/core/adapter';
import { PUBLIC, RULE } from './tokens.js';
import { nodeRequest, tags } from './platform.js';

const REQUIRED: AccessRule = Object.freeze({ required: true });

/**
 * Require a signed-in identity on a controller or handler: browser navigations
 * are redirected (303) to the login URL with `returnTo`, API calls get 401 JSON,
 * a failed `where` 403 `FORBIDDEN`, an unreachable upstream 503 with Retry-After —
 * the same answers as idgate's other adapters, written by the guard itself.
 * Reads `@RequireIdentity({ where })` and `@Public()`; as `APP_GUARD` it protects every route.
 * @example
 * @UseGuards(IdentityGuard) @Get('account') account(@Identity() identity: Identity) { return identity; }
 * @example
 * providers: [{ provide: APP_GUARD, useClass: IdentityGuard }]
 */
@Injectable()
export class IdentityGuard implements CanActivate {
  constructor(@Inject(Reflector) private readonly reflector: Reflector) {}

  /** Decide (core's `decide`) and, unless the request may continue, write the answer and return false. */
  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, targets)) return true;
    const rule = this.reflector.getAllAndOverride<AccessRule>(RULE, targets) ?? REQUIRED;
    const tag = tags.get(nodeRequest(context.switchToHttp().getRequest<object>()), 'IdentityGuard');
    return tag.render(tag.gate.decide(tag.state, tag.request, rule));
  }
}
