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
  /**
   * What the decorators say, per handler and class: read once, since
   * decorators are applied when a class is defined (a subclass that inherits
   * a handler has an entry of its own).
   */
  private readonly rules = new WeakMap<object, WeakMap<object, AccessRule | null>>();

  constructor(@Inject(Reflector) private readonly reflector: Reflector) {}

  /** Decide (core's `decide`) and, unless the request may continue, write the answer and return false. */
  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const rule = this.ruleOf(context.getHandler(), context.getClass());
    if (rule === null) return true;
    const tag = tags.get(nodeRequest(context.switchToHttp().getRequest<object>()), 'IdentityGuard');
    return tag.render(tag.gate.decide(tag.state, tag.request, rule));
  }

  /** The route's rule, or null for `@Public()`. */
  private ruleOf(handler: object, type: object): AccessRule | null {
    let byClass = this.rules.get(handler);
    const known = byClass?.get(type);
    if (known !== undefined) return known;
    const targets = [handler, type] as Parameters<Reflector['getAllAndOverride']>[1];
    const rule = this.reflector.getAllAndOverride<boolean>(PUBLIC, targets) ? null : this.reflector.getAllAndOverride<AccessRule>(RULE, targets) ?? REQUIRED;
    if (byClass === undefined) this.rules.set(handler, (byClass = new WeakMap()));
    byClass.set(type, rule);
    return rule;
  }
}
