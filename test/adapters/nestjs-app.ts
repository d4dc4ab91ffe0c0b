// The conformance app on NestJS, shared by the Express and Fastify platforms
// (nestjs-express.ts, nestjs-fastify.ts): the routes of types.ts, protected
// the Nest way (guards, decorators); login and logout answered by the module.
import 'reflect-metadata';
import { Controller, Get, Header, Inject, Module, NotFoundException, Post, Req, Res, UseGuards, type DynamicModule } from '@nestjs/common';
import { Identity, IdentityGuard, IdentityStatusParam, IdgateEndpoint, IdgateModule, IdgateService, RequireIdentity, type IdentityStatus, type IdentityValue } from '@idgate/nestjs';
import type { AppOptions } from './types.js';

/** How a platform sets the `/theme` cookie with its usual API. */
export type SetTheme = (res: object, withParser: boolean) => void;

const OPTIONS = Symbol('conformance.options');
const THEME = Symbol('conformance.theme');

@Controller()
class PagesController {
  constructor(
    @Inject(OPTIONS) private readonly options: AppOptions,
    @Inject(THEME) private readonly setTheme: SetTheme,
  ) {}

  @Get('public')
  public(@Identity() identity: IdentityValue | null, @IdentityStatusParam() status: IdentityStatus) {
    return { identity, status };
  }

  @Get('account')
  @RequireIdentity()
  account(@Identity() identity: IdentityValue) {
    return { identity };
  }

  // The guard alone (its default rule), and the identity read from the request as a guard would.
  @Get('api/me')
  @UseGuards(IdentityGuard)
  me(@Req() req: { identity: IdentityValue }) {
    return { identity: req.identity };
  }

  @Get('admin')
  @RequireIdentity({ where: (id) => id.attributes.plan === 'enterprise' })
  admin() {
    return { ok: true };
  }

  @Get('theme')
  theme(@Res({ passthrough: true }) res: object, @IdentityStatusParam() status: IdentityStatus) {
    this.setTheme(res, this.options.cookieParser === true);
    return { status };
  }

  // What the platform's cookie parser (cookie-parser, @fastify/cookie; when mounted) and idgate each made of the Cookie header.
  @Get('cookie-view')
  cookieView(@Req() req: { cookies?: Record<string, unknown>; headers: { cookie?: string }; query: { name?: string } }, @Identity() identity: IdentityValue | null, @IdentityStatusParam() status: IdentityStatus) {
    return { identity: identity?.id ?? null, status, parsed: req.cookies?.[String(req.query.name)] ?? null, header: req.headers.cookie ?? null };
  }

  @Get('login')
  @Header('Content-Type', 'text/html; charset=utf-8')
  loginPage() {
    return '<form method="post" action="/login"></form>';
  }
}

// Under `protect: ['/members/*']`: area is covered by the option alone, required adds the decorator.
@Controller('members')
class MembersController {
  @Get('area')
  area(@Identity() identity: IdentityValue | null) {
    return { identity };
  }

  @Get('required')
  @RequireIdentity()
  required(@Identity() identity: IdentityValue) {
    return { identity };
  }
}

@Controller()
@RequireIdentity()
class EndpointsController {
  constructor(
    @Inject(OPTIONS) private readonly options: AppOptions,
    @Inject(IdgateService) private readonly idgate: IdgateService,
  ) {}

  @Post('chat')
  @IdgateEndpoint()
  async chat(@Req() req: object, @Res() res: object) {
    if (!this.options.chat) throw new NotFoundException();
    await this.idgate.chatProxy(this.options.chat)(req, res);
  }

  @Post('kyc/session')
  @IdgateEndpoint()
  async kyc(@Req() req: object, @Res() res: object) {
    if (!this.options.kyc) throw new NotFoundException();
    await this.idgate.kycSessionHandler(this.options.kyc.client, this.options.kyc.options)(req, res);
  }
}

/** The conformance app's root module. */
export function conformanceModule(options: AppOptions, setTheme: SetTheme): DynamicModule {
  @Module({})
  class ConformanceModule {}
  return {
    module: ConformanceModule,
    imports: [IdgateModule.forRoot({ protect: ['/members/*'], ...options.idgate, loginPath: '/login', logoutPath: '/logout' })],
    controllers: [PagesController, MembersController, EndpointsController],
    providers: [{ provide: OPTIONS, useValue: options }, { provide: THEME, useValue: setTheme }],
  };
}
