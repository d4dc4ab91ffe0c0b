import 'reflect-metadata';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  Catch,
  Controller,
  Get,
  Header,
  Inject,
  Module,
  NotFoundException,
  Post,
  Query,
  Req,
  RequestMethod,
  Res,
  type ArgumentsHost,
  type DynamicModule,
  type ExceptionFilter,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD, HttpAdapterHost, NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Identity, IdentityGuard, IdentityStatusParam, IdgateEndpoint, IdgateModule, IdgateService, Public, type Idgate, type IdgateOptions, type IdentityStatus, type IdentityValue } from '@idgate/nestjs';
import type { KycClient } from '@idgate/kyc';
import { accountPage, exampleGate, homePage, loginPage, notFoundPage, whileUnavailable, type PageOptions } from '@idgate/example-pages';

const HTML = 'text/html; charset=utf-8';
/** What the pages need to know: the demo hint, and whether the KYC button is shown. */
const PAGES = Symbol('example.pages');
const KYC = Symbol('example.kyc');
type Pages = PageOptions & { kyc: boolean };

// Every route is protected by the global IdentityGuard (APP_GUARD below) unless marked @Public().
@Controller()
class PagesController {
  constructor(@Inject(PAGES) private readonly pages: Pages) {}

  @Get()
  @Public()
  @Header('Content-Type', HTML)
  home(@Identity() identity: IdentityValue | null, @IdentityStatusParam() status: IdentityStatus) {
    return homePage(identity, status);
  }

  // POST /login and POST /logout are answered by IdgateModule (loginPath, logoutPath).
  @Get('login')
  @Public()
  @Header('Content-Type', HTML)
  login(@Query() query: Record<string, unknown>) {
    return loginPage(query, this.pages);
  }

  @Get('account')
  @Header('Content-Type', HTML)
  account(@Identity() identity: IdentityValue) {
    return accountPage(identity, { kyc: this.pages.kyc });
  }

  @Get('api/me')
  me(@Identity() identity: IdentityValue) {
    return { identity };
  }
}

// Only mounted with a KYC client: without one, POST /kyc/session is the 404 page, as on the other examples.
@Controller('kyc')
class KycController {
  constructor(
    @Inject(IdgateService) private readonly idgate: IdgateService,
    @Inject(KYC) private readonly kyc: KycClient,
  ) {}

  // The browser sends no e-mail: the KYC customer comes from the verified identity.
  @Post('session')
  @IdgateEndpoint()
  session(@Req() req: object, @Res() res: object) {
    return this.idgate.kycSessionHandler(this.kyc)(req, res);
  }
}

/** Every unknown page is the same HTML 404 as on the other examples (Nest's own is JSON). */
@Catch(NotFoundException)
class NotFoundPage implements ExceptionFilter {
  constructor(@Inject(HttpAdapterHost) private readonly host: HttpAdapterHost) {}

  catch(_exception: NotFoundException, context: ArgumentsHost): void {
    const { httpAdapter } = this.host;
    const res: unknown = context.switchToHttp().getResponse();
    httpAdapter.setHeader(res, 'Content-Type', HTML);
    httpAdapter.reply(res, notFoundPage(), 404);
  }
}

/**
 * A page navigation to /account while the sign-in service is down gets a page,
 * not the API's JSON 503. A middleware, because it must answer before the
 * global guard; it runs after IdgateModule's (global modules' middleware comes first).
 */
function unavailablePage(gate: Idgate) {
  return (req: IncomingMessage & { method: string; identityStatus?: IdentityStatus }, res: ServerResponse, next: () => void): void => {
    const page = whileUnavailable(gate, req, req.identityStatus);
    if (!page) return next();
    res.writeHead(503, { ...page.headers, 'Content-Type': HTML }).end(page.html);
  };
}

/**
 * The example's root module: the pages every example has, idgate's module with
 * sign-in and sign-out, a global `IdentityGuard`; with `kyc` (from
 * `createKycClient()`), also POST /kyc/session.
 * @example const app = await NestFactory.create(appModule(gate), { bodyParser: false });
 */
export function appModule(options?: IdgateOptions | Idgate, kyc?: KycClient, pages: PageOptions = {}): DynamicModule {
  const gate = exampleGate(options);
  @Module({})
  class ExampleModule implements NestModule {
    configure(consumer: MiddlewareConsumer): void {
      consumer.apply(unavailablePage(gate)).forRoutes({ path: 'account', method: RequestMethod.GET });
    }
  }
  return {
    module: ExampleModule,
    imports: [IdgateModule.forRoot({ gate, loginPath: '/login', logoutPath: '/logout' })],
    controllers: kyc ? [PagesController, KycController] : [PagesController],
    providers: [
      { provide: PAGES, useValue: { ...pages, kyc: kyc !== undefined } satisfies Pages },
      ...(kyc ? [{ provide: KYC, useValue: kyc }] : []),
      { provide: APP_GUARD, useClass: IdentityGuard },
      { provide: APP_FILTER, useClass: NotFoundPage },
    ],
  };
}

/**
 * The example app on Nest's Express platform, initialised but not listening:
 * `app.getHttpServer()` is the node:http server to listen with.
 */
export async function createApp(options?: IdgateOptions | Idgate, kyc?: KycClient, pages: PageOptions = {}): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(appModule(options, kyc, pages), {
    // idgate reads the login, logout and KYC bodies itself, with its own limits.
    bodyParser: false,
    // Nest's start-up lines would bury the demo's banner; warnings and errors still show.
    logger: ['error', 'warn'],
    // A failure while building the app is thrown to the caller, not a process.abort().
    abortOnError: false,
  });
  app.disable('x-powered-by');
  return app.init();
}
