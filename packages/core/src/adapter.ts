/**
 * `@idgate/core/adapter`: what a framework adapter, or a package that adds
 * endpoints, stores or clients (`@idgate/chat`, `@idgate/kyc`, `@idgate/redis`),
 * builds on: the gate's internals, decisions and how to render them, the
 * request view, bodies, upstream HTTP, sessions, and the adapter kit.
 * Applications import `@idgate/core`; what is here may change in a minor version.
 * @module
 */
export { createIdgate, isIdgate, type Idgate, type RequireOptions, type CookieSource } from './gate.js';
export { resolveConfig, API_KEY_PATTERN, type IdgateOptions, type IdgateConfig } from './config.js';
export { applyHeaders, PRIVATE_HEADERS, NO_STORE_HEADERS, COOKIE_HEADERS, VARY_COOKIE, type Decision, type ResponseDecision, type Header, type HeaderTarget } from './decision.js';
export { ANONYMOUS, UNRECOGNIZED, EXPIRED, INVALID, createVerifier, type AuthState, type Verifier } from './verifier.js';
export { createUpstreamClient, loginErrorFor, LOGIN_MESSAGES, type UpstreamClient, type Profile, type ProfileResult } from './upstream.js';
export { providerClient, providerProblem, isOpaqueToken, MAX_TOKEN_LENGTH, type IdentityProvider, type LoginInput, type ProviderClient, type ProviderClientOptions } from './provider.js';
export { bizkithubProvider, type BizkithubProviderOptions } from './bizkithub.js';
export { createIdentity, rawIdentityId, type Identity, type IdentityStatus } from './identity.js';
export { IdgateError, ConfigError, UpstreamError, LoginError, LoginThrottledError, RequestError, type IdgateErrorCode, type UpstreamErrorCode, type UpstreamLoginCode } from './errors.js';
export { readCookie, sessionCookie, clearedCookie, cookieIsSecure, hostnameOf } from './cookies.js';
export { safeReturnTo } from './returnTo.js';
export { isNavigation, isSameOriginPost, pathOf, requestOrigin, type IdentityRequest, type RequestHeaders } from './request.js';
export { canonicalEmail, normalizeEmail, normalizeIp, isIdentityId } from './normalize.js';
export { requestJson, readCappedBody, httpPolicySchema, parseRetryAfter, clientRetryAfter, RETRY_AFTER_PARSE_MAX, backoffDelay, type HttpPolicy, type JsonResponse, type RequestOptions } from './http.js';
export { sessionKeys, signSession, openSession, sealValue, openValue, type SessionKeys, type SessionToken } from './session.js';
export { identityKey, type CacheStore, type StoredIdentity, type AttemptTake } from './store.js';
export { createLoginThrottle, throttleKey, ipBucket, type LoginThrottle, type LoginAttempt, type LoginThrottleOptions } from './throttle.js';
export { redact, silentLogger, type Logger } from './logger.js';
export { bodyKind, readBody, webBody, formFields, payloadTooLarge, MAX_FORM_BYTES, type BodySource } from './body.js';
export type { IdgateEvent, IdgateEventType, UpstreamOperation } from './events.js';
export { timeUpstreamCall } from './instrument.js';
export { diagnose, createDiagnostics, observeUpstream, checkUpstream, diagnosticNames, providerNames, DIAGNOSTIC_NAMES, CHECK_IDENTITY_ID, type Diagnostic, type DiagnosticCode, type DiagnosticNames, type DiagnosticsReporter, type DiagnosticsOptions } from './diagnostics.js';
export { runEndpoint, endpointOptions, type EndpointInput, type EndpointResult, type EndpointSource, type IdentityEndpoint, type StreamResult, type RunEndpointOptions } from './endpoint.js';
export { createBreaker, type Breaker, type BreakerOptions, type BreakerState } from './breaker.js';
export { createMetrics, type Metrics } from './metrics.js';
export type { StoreLookup, StoreEvent, StoreClaim } from './store.js';
export {
  requiredRule,
  mountedFirst,
  requestTags, exposeOnPrototype, requestAccessor,
  headersOf,
  webHeaderTarget,
  toResponse,
  streamResponse,
  serveWebEndpoint,
  runtimeClientIp,
  type AccessRule,
  type WebEndpointInput,
} from './kit.js';
export { ipVersion } from './ip.js';
