import type { IdgateError } from './errors.js';
import type { Identity, IdentityStatus } from './identity.js';

/**
 * A response header core wants set; `vary` is appended to, never replaced.
 * Names are lowercase, as Node's header store and HTTP/2 keep them: setting
 * one folds no case and allocates nothing per response (header names are
 * case-insensitive on the wire).
 */
export type Header = readonly [name: string, value: string];

interface Common {
  /** Response headers to apply (Cache-Control, Vary, Retry-After). */
  readonly headers: readonly Header[];
  /** `Set-Cookie` values to append, in every case. */
  readonly setCookies: readonly string[];
}

/**
 * What core tells an adapter to do with a request. An adapter applies it and
 * decides nothing itself.
 */
export type Decision =
  | (Common & { readonly kind: 'next'; readonly identity: Identity | null; readonly status: IdentityStatus })
  | (Common & { readonly kind: 'redirect'; readonly location: string; readonly statusCode: 303 })
  | (Common & {
      readonly kind: 'reject' | 'respond';
      readonly statusCode: number;
      readonly body: Readonly<Record<string, unknown>>;
      /** The typed error behind a rejection, for the server's own logging. */
      readonly error?: IdgateError;
    });

/** The response fields of `Decision` an adapter writes. */
export type ResponseDecision = Exclude<Decision, { kind: 'next' }>;

const PRIVATE_NO_STORE = 'private, no-store';

// `vary` first: merging it reads the response's headers, which on most responses are still empty then.
/** Headers every identity-bearing response gets unless `noStore: false` (BizKitHub's identityId guide: never cache responses that carry user data). */
export const PRIVATE_HEADERS: readonly Header[] = Object.freeze([
  ['vary', 'Cookie'],
  ['cache-control', PRIVATE_NO_STORE],
] as const);
/** Headers on redirects to login and on auth failures. */
export const NO_STORE_HEADERS: readonly Header[] = Object.freeze([['cache-control', 'no-store']] as const);
/**
 * Headers on every response that sets or clears the session cookie, or whose
 * answer depended on it: no cache stores it, and none serves it to another cookie.
 */
export const COOKIE_HEADERS: readonly Header[] = Object.freeze([
  ['vary', 'Cookie'],
  ['cache-control', 'no-store'],
] as const);
/** `Vary: Cookie` alone: an answer that depended on the cookie but sets nothing. */
export const VARY_COOKIE: readonly Header[] = Object.freeze([['vary', 'Cookie']] as const);
/** An empty list, shared. */
export const NONE: readonly never[] = Object.freeze([]);

/**
 * The two response methods core needs. Node's `ServerResponse` fits (Express's
 * `res`, Koa's `ctx.res`, Fastify's `reply.raw`), and so does a two-method
 * wrapper over a framework's own header store (Fastify's `reply`, whose
 * headers are only written at send time).
 */
export interface HeaderTarget {
  getHeader(name: string): number | string | string[] | undefined;
  /** Replace the header's value (`Set-Cookie` included: `applyHeaders` passes the whole list). */
  setHeader(name: string, value: number | string | readonly string[]): unknown;
}

function appendCookie(res: HeaderTarget, value: string): void {
  const current = res.getHeader('set-cookie');
  if (current === undefined) {
    res.setHeader('set-cookie', value);
    return;
  }
  // A later decision about the same cookie replaces an earlier one (the
  // middleware clears a stale cookie, then login sets the new one).
  const prefix = value.slice(0, value.indexOf('=') + 1);
  const kept = (Array.isArray(current) ? current : [String(current)]).filter((v) => !v.startsWith(prefix));
  res.setHeader('set-cookie', kept.length === 0 ? value : [...kept, value]);
}

/**
 * Write a decision's headers and cookies onto a Node response: `Set-Cookie`
 * appended, `Vary` merged, the rest set.
 * @example applyHeaders(res, decision); if (decision.kind === 'next') next();
 */
export function applyHeaders(res: HeaderTarget, decision: Decision): void {
  const { headers, setCookies } = decision;
  if (headers === PRIVATE_HEADERS) {
    // Every signed-in response: written from constants, without loading the
    // frozen list and its pairs (elements of a frozen array are not inlined).
    mergeVary(res, 'Cookie');
    res.setHeader('cache-control', PRIVATE_NO_STORE);
  } else writeHeaders(res, headers);
  for (let i = 0; i < setCookies.length; i++) appendCookie(res, setCookies[i]!);
}

function writeHeaders(res: HeaderTarget, headers: readonly Header[]): void {
  for (let i = 0; i < headers.length; i++) {
    const header = headers[i]!;
    const name = header[0];
    // Core's own names are lowercase; a hand-made decision's `Vary` is merged all the same.
    if (name === 'vary' || (name.length === 4 && name.toLowerCase() === 'vary')) mergeVary(res, header[1]);
    else res.setHeader(name, header[1]);
  }
}

// Runs on every authenticated request, twice with requireIdentity: no
// closure, and no split when Vary is absent or already exactly this value.
function mergeVary(res: HeaderTarget, value: string): void {
  const current = res.getHeader('vary');
  if (current === undefined) {
    res.setHeader('vary', value);
    return;
  }
  const text = String(current);
  if (text === value && !value.includes(',') && value.trim() === value) return;
  const wanted = value.toLowerCase();
  const parts = text.split(',');
  for (let i = 0; i < parts.length; i++) {
    const v = parts[i]!.trim();
    if (v === '*' || v.toLowerCase() === wanted) return;
  }
  res.setHeader('vary', text ? `${text}, ${value}` : value);
}
