import type { ServerResponse } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import type { EndpointSource, Idgate, IdentityEndpoint } from '@idgate/core/adapter';
import { serveNodeEndpoint } from '@idgate/core/node';
import { IDGATE } from './tokens.js';
import { nodeRequest, renderExpress, renderFastify, tags, type ExpressLikeResponse, type FastifyLikeReply } from './platform.js';

/** A handler for a controller method that takes `@Req()` and `@Res()` (Express or Fastify objects). */
export type IdgateHandler = (req: object, res: object) => Promise<void>;

/**
 * The module's gate and handler helpers for controllers: sign-in, sign-out,
 * the chat proxy and KYC sessions, on either platform. Use with `@Req()` and
 * `@Res()` (the helper writes the response).
 * @example
 * @Post('chat') @RequireIdentity() @IdgateEndpoint()
 * chat(@Req() req: Request, @Res() res: Response) { return this.idgate.chatProxy(forwarder)(req, res); }
 */
@Injectable()
export class IdgateService {
  constructor(@Inject(IDGATE) readonly gate: Idgate) {}

  /**
   * A sign-in handler: JSON or form `{ email, password, returnTo? }`; a form is redirected to the safe `returnTo`.
   * @example @Post('signin') signIn(@Req() req, @Res() res) { return this.idgate.login()(req, res); }
   */
  login(): IdgateHandler {
    return async (req, res) => {
      const tag = tags.get(nodeRequest(req), 'IdgateService.login()');
      const raw = nodeRequest(req);
      tag.render(await tag.gate.login(tag.request, (req as { body?: unknown }).body, raw.readableEnded ? undefined : raw));
      void res;
    };
  }

  /**
   * A sign-out handler: upstream logout, cache invalidated, cookie cleared.
   * @example @Post('signout') signOut(@Req() req, @Res() res) { return this.idgate.logout()(req, res); }
   */
  logout(): IdgateHandler {
    return async (req, res) => {
      const tag = tags.get(nodeRequest(req), 'IdgateService.logout()');
      const raw = nodeRequest(req);
      tag.render(await tag.gate.logout(tag.request, raw.readableEnded ? undefined : raw));
      void res;
    };
  }

  /**
   * Forward to the chat API as the verified identity (never the body's `userId`); `stream: true` passes SSE through, a disconnect aborts it.
   * @param forwarder from `createChatForwarder()` in `@idgate/chat`.
   * @example this.idgate.chatProxy(forwarder)(req, res)
   */
  chatProxy(forwarder: EndpointSource): IdgateHandler {
    return endpointHandler('chatProxy()', forwarder.endpoint());
  }

  /**
   * Answer `{ sessionId, expiryDate }` for a KYC session of the verified identity.
   * @param client from `createKycClient()` in `@idgate/kyc`; `options` go to its endpoint.
   * @example this.idgate.kycSessionHandler(kyc, { customer: (id) => ({ ... }) })(req, res)
   */
  kycSessionHandler<O>(client: EndpointSource<O>, options?: O): IdgateHandler {
    return endpointHandler('kycSessionHandler()', client.endpoint(options));
  }
}

function endpointHandler(name: string, endpoint: IdentityEndpoint): IdgateHandler {
  return async (req, res) => {
    const raw = nodeRequest(req);
    const tag = tags.get(raw, name);
    const body = (req as { body?: unknown }).body;
    const input = { identity: tag.state.identity, request: tag.request, body, stream: body === undefined && !raw.readableEnded ? raw : undefined };
    if ('raw' in res) {
      const reply = res as FastifyLikeReply;
      await serveNodeEndpoint(tag.gate, endpoint, input, reply.raw, {
        decision: (decision) => renderFastify(reply, decision),
        // Streaming bypasses Fastify's reply: carry the headers set so far (Cache-Control, Vary) onto the raw response.
        takeOver() {
          reply.hijack();
          for (const [header, value] of Object.entries(reply.getHeaders())) if (value !== undefined) reply.raw.setHeader(header, value);
        },
      });
    } else {
      const response = res as ExpressLikeResponse;
      await serveNodeEndpoint(tag.gate, endpoint, input, response as ServerResponse, { decision: (decision) => renderExpress(response, decision) });
    }
  };
}
