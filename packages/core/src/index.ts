/**
 * `@idgate/core`: what applications use. A gate and its options, the identity,
 * the identity provider interface and the built-in BizKitHub provider,
 * the errors (stable codes), logging, events and metrics, and the types an app
 * writes its own endpoints or stores against. Framework adapters and packages
 * that extend idgate build on `@idgate/core/adapter`; Node-only pieces are in
 * `@idgate/core/node`.
 * @module
 */
export { createIdgate, isIdgate, type Idgate, type RequireOptions } from './gate.js';
export { resolveConfig, API_KEY_PATTERN, type IdgateOptions, type IdgateConfig } from './config.js';
export { isOpaqueToken, type IdentityProvider, type LoginInput, type Profile, type ProfileResult } from './provider.js';
export { bizkithubProvider, type BizkithubProviderOptions } from './bizkithub.js';
export type { Identity, IdentityStatus } from './identity.js';
export { IdgateError, ConfigError, UpstreamError, LoginError, LoginThrottledError, RequestError, type IdgateErrorCode, type UpstreamErrorCode, type UpstreamLoginCode } from './errors.js';
export { safeReturnTo } from './returnTo.js';
export { redact, silentLogger, type Logger } from './logger.js';
export type { IdgateEvent, IdgateEventType, UpstreamOperation } from './events.js';
export type { Diagnostic, DiagnosticCode } from './diagnostics.js';
export { createMetrics, type Metrics } from './metrics.js';
export type { EndpointSource, IdentityEndpoint, EndpointInput, EndpointResult, StreamResult } from './endpoint.js';
export type { CacheStore, StoredIdentity, AttemptTake, StoreLookup, StoreEvent, StoreClaim } from './store.js';
export type { IdentityRequest, RequestHeaders } from './request.js';
export type { Decision, ResponseDecision, Header } from './decision.js';
export type { AccessRule } from './kit.js';
