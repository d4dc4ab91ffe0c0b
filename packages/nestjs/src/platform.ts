import type { IncomingMessage, ServerResponse } from 'node:http';
import { applyHeaders, type AuthState, type Decision, type HeaderTarget, type Idgate, type IdentityRequest, requestTags } from '@idgate/core/adapter';

/** What the request-time hook leaves for the guard, the decorators and the handlers of one request. */
export interface Tag {
  readonly gate: Idgate;
  readonly state: AuthState;
  /** The request as core reads it. */
  readonly request: IdentityRequest;
  /** Apply a decision on the platform's response; true when the request may continue. */
  render(decision: Decision): boolean;
}

/** Tags keyed by the Node request (Express's `req`, Fastify's `request.raw`), so both platforms share one map. */
export const tags = requestTags<object, Tag>('idgate.nestjs.tags', 'IdgateModule.forRoot() imported');

/** The Node request under a platform request: Fastify's `request.raw`, or Express's `req` itself. */
export function nodeRequest(request: object): IncomingMessage {
  return ((request as { raw?: IncomingMessage }).raw ?? request) as IncomingMessage;
}

/** An Express request (Nest's Express platform) as core's `IdentityRequest`; getters, so `req.ip` is only computed when read. */
export class ExpressRequest implements IdentityRequest {
  constructor(private readonly req: ExpressLikeRequest) {}
  get method() { return this.req.method; }
  get url() { return this.req.originalUrl; }
  get headers() { return this.req.headers; }
  get ip() { return this.req.ip; }
  get protocol() { return this.req.protocol as 'http' | 'https'; }
  get cookies() { return this.req.cookies; }
}

/** What the adapter reads of an Express request (no import of express: it is the platform's). */
export interface ExpressLikeRequest extends IncomingMessage {
  method: string;
  originalUrl: string;
  ip: string | undefined;
  protocol: string;
  cookies?: Record<string, string | undefined>;
  body?: unknown;
}

/** What the adapter uses of an Express response. */
export interface ExpressLikeResponse extends ServerResponse {
  redirect(status: number, location: string): void;
  status(code: number): { json(body: unknown): void };
}

/** Apply a decision on an Express response; true when the request may continue. */
export function renderExpress(res: ExpressLikeResponse, decision: Decision): boolean {
  applyHeaders(res, decision);
  if (decision.kind === 'next') return true;
  if (decision.kind === 'redirect') res.redirect(decision.statusCode, decision.location);
  else res.status(decision.statusCode).json(decision.body);
  return false;
}

/** What the adapter uses of a Fastify reply (no import of fastify: it is the platform's). */
export interface FastifyLikeReply {
  raw: ServerResponse;
  getHeader(name: string): number | string | string[] | undefined;
  getHeaders(): Record<string, number | string | string[] | undefined>;
  header(name: string, value: unknown): FastifyLikeReply;
  removeHeader(name: string): FastifyLikeReply;
  redirect(location: string, code: number): unknown;
  code(code: number): FastifyLikeReply;
  send(body?: unknown): unknown;
  hijack(): unknown;
}

/** Core's header target over the Fastify reply, not its raw response: Fastify writes its own headers at send time. */
class ReplyHeaders implements HeaderTarget {
  constructor(private readonly reply: FastifyLikeReply) {}
  getHeader(name: string) { return this.reply.getHeader(name); }
  // reply.header() appends to Set-Cookie; core passes the whole list, so that one is cleared first.
  setHeader(name: string, value: number | string | readonly string[]) { (name === 'set-cookie' ? this.reply.removeHeader(name) : this.reply).header(name, value); }
}

/** Apply a decision on a Fastify reply; true when the request may continue. */
export function renderFastify(reply: FastifyLikeReply, decision: Decision): boolean {
  if (decision.headers.length !== 0 || decision.setCookies.length !== 0) applyHeaders(new ReplyHeaders(reply), decision);
  if (decision.kind === 'next') return true;
  if (decision.kind === 'redirect') reply.redirect(decision.location, decision.statusCode);
  else reply.code(decision.statusCode).send(decision.body);
  return false;
}
