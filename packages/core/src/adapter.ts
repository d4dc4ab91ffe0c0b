/**
 * `@idgate/core/adapter`: what a framework adapter (or a package that adds
 * endpoints, stores or clients) builds on. Applications import `@idgate/core`.
 * @module
 */
export { createIdgate, isIdgate, type Idgate, type RequireOptions, type CookieSource } from './gate.js';
export type { IdgateOptions, IdgateConfig } from './config.js';
export { applyHeaders, PRIVATE_HEADERS, NO_STORE_HEADERS, COOKIE_HEADERS, VARY_COOKIE, type Decision, type ResponseDecision, type Header, type HeaderTarget } from './decision.js';
export { ANONYMOUS, UNRECOGNIZED, EXPIRED, INVALID, type AuthState, type Verifier } from './verifier.js';
export type { UpstreamClient, Profile, ProfileResult } from './upstream.js';
export { createIdentity, type Identity, type IdentityStatus } from './identity.js';
export { IdgateError, ConfigError, UpstreamError, RequestError, type IdgateErrorCode } from './errors.js';
export { isNavigation, isSameOriginPost, pathOf, requestOrigin, type IdentityRequest, type RequestHeaders } from './request.js';
export { canonicalEmail, normalizeEmail, normalizeIp } from './normalize.js';
export { requestJson, readCappedBody, httpPolicySchema, parseRetryAfter, clientRetryAfter, type HttpPolicy, type JsonResponse, type RequestOptions } from './http.js';
export type { CacheStore, StoredIdentity, AttemptTake, StoreLookup, StoreEvent } from './store.js';
export { redact, silentLogger, type Logger } from './logger.js';
export { bodyKind, readBody, webBody, formFields, payloadTooLarge, MAX_FORM_BYTES, type BodySource } from './body.js';
export { runEndpoint, endpointOptions, type EndpointInput, type EndpointResult, type EndpointSource, type IdentityEndpoint, type StreamResult, type RunEndpointOptions } from './endpoint.js';
export {
  requiredRule,
  mountedFirst,
  requestTags,
  headersOf,
  webHeaderTarget,
  toResponse,
  streamResponse,
  serveWebEndpoint,
  type AccessRule,
  type WebEndpointInput,
} from './kit.js';
export { ipVersion } from './ip.js';
