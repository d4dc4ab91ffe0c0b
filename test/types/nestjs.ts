// Type tests: compiled by the root `tsc -p tsconfig.json`, never run. They use
// the public API the way the README does; each @ts-expect-error proves a wrong
// use fails to compile.
import { Controller, Get, Inject, Module, Post, Req, Res, UseGuards } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { expectTypeOf } from 'vitest';
import {
  IDGATE,
  Identity,
  IdentityGuard,
  IdgateEndpoint,
  IdgateModule,
  IdgateService,
  Public,
  RequireIdentity,
  createIdgate,
  type EndpointSource,
  type Idgate,
  type IdentityStatus,
  type IdentityValue,
} from '@idgate/nestjs';

declare const forwarder: EndpointSource;
declare const kyc: EndpointSource<{ formId: string }>;

@Controller()
@RequireIdentity()
class AccountController {
  constructor(
    @Inject(IdgateService) private readonly idgate: IdgateService,
    @Inject(IDGATE) readonly gate: Idgate,
  ) {}

  @Get('account')
  account(@Identity() identity: IdentityValue) {
    expectTypeOf(identity.verifiedAt).toEqualTypeOf<Date>();
    expectTypeOf(this.idgate.gate).toEqualTypeOf<Idgate>();
    return { identity };
  }

  @Get('admin')
  @RequireIdentity({ where: (id) => id.attributes.role === 'admin' })
  admin() {
    return { ok: true };
  }

  @Get('health')
  @Public()
  health() {
    return 'ok';
  }

  @Post('chat')
  @IdgateEndpoint()
  chat(@Req() req: object, @Res() res: object) {
    return this.idgate.chatProxy(forwarder)(req, res);
  }

  @Post('kyc/session')
  @UseGuards(IdentityGuard)
  @IdgateEndpoint()
  kyc(@Req() req: object, @Res() res: object) {
    return this.idgate.kycSessionHandler(kyc, { formId: 'f1' })(req, res);
  }
}

@Module({
  imports: [IdgateModule.forRoot({ protect: ['/account/*'], loginUrl: '/signin', loginPath: '/login', logoutPath: '/logout' })],
  controllers: [AccountController],
  providers: [{ provide: APP_GUARD, useClass: IdentityGuard }],
})
export class AppModule {}

IdgateModule.forRoot();
IdgateModule.forRoot({ gate: createIdgate({ upstreamUrl: 'http://127.0.0.1:4010' }), loginPath: '/login' });
IdgateModule.forRootAsync({ inject: ['CONFIG'], useFactory: (config: { secret: string }) => ({ secret: config.secret }) });
IdgateModule.forRootAsync({ useFactory: async () => ({ loginPath: '/login' }) });

// @ts-expect-error an unknown option is a compile error, not a silent no-op
IdgateModule.forRoot({ protekt: ['/account'] });
// @ts-expect-error `where` must answer a boolean
RequireIdentity({ where: (id) => id.email });
// @ts-expect-error the KYC options are the client's own type
new IdgateService(createIdgate()).kycSessionHandler(kyc, { formId: 1 });
// @ts-expect-error forRootAsync needs a factory
IdgateModule.forRootAsync({ inject: [] });
@Controller()
export class MisusedDecorators {
  // @ts-expect-error @Identity() is a parameter decorator, not a method decorator
  @Identity()
  me() {
    return null;
  }

  @Get('me')
  // @ts-expect-error @Public() goes on the handler or the controller, not on a parameter
  mine(@Public() identity: IdentityValue) {
    return identity;
  }
}

// @ts-expect-error @IdgateEndpoint() marks a handler, not a controller
@IdgateEndpoint()
@Controller()
export class EndpointOnClass {}

// @ts-expect-error identityStatus is a closed set
const status: IdentityStatus = 'logged-in';
void status;
