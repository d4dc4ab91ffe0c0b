import { SpanKind, SpanStatusCode, context, trace, type Attributes, type Tracer } from '@opentelemetry/api';
import type { IdgateEvent, UpstreamOperation } from '@idgate/core';

/** Options of `openTelemetryTracing()`. */
export interface OpenTelemetryTracingOptions {
  /**
   * The tracer spans are recorded with.
   * @default trace.getTracer('@idgate/telemetry'): the globally registered provider's, a no-op without an SDK
   */
  tracer?: Tracer;
}

/** What `openTelemetryTracing()` returns: a listener for idgate's (and chat's, KYC's) `onEvent`. */
export interface OpenTelemetryTracing {
  /** Pass as `onEvent` to idgate, `createChatForwarder` and `createKycClient`. */
  onEvent(event: IdgateEvent): void;
}

const UPSTREAM: Record<UpstreamOperation, string> = {
  verify: 'bizkithub',
  login: 'bizkithub',
  logout: 'bizkithub',
  chat: 'bookbag',
  'chat-contacts': 'bookbag',
  'chat-conversations': 'bookbag',
  kyc: 'azakaw',
};

/**
 * One OpenTelemetry span per upstream call (verify, login, logout, chat,
 * contacts, conversations, KYC), a CLIENT span named `idgate <operation>`
 * with the call's real start and end time, under the context active when the
 * call settled (your request's span, with Node's HTTP instrumentation). The
 * span is recorded when the call settles, so it has no children of its own.
 * Attributes: `idgate.operation`, `idgate.upstream` (bizkithub or the
 * identity provider's `name`, bookbag or azakaw), `idgate.outcome` (ok,
 * rejected, error) and `error.type` (the typed error's code); never an identityId, e-mail, key, URL or message. A failure
 * (`error`) sets the span status to ERROR; a definitive refusal (a wrong
 * password) does not. Without an OpenTelemetry SDK the API is a no-op.
 * @example
 * import { openTelemetryTracing } from '@idgate/telemetry/opentelemetry';
 * const tracing = openTelemetryTracing();
 * app.use(identityMiddleware({ onEvent: tracing.onEvent }));
 */
export function openTelemetryTracing(options: OpenTelemetryTracingOptions = {}): OpenTelemetryTracing {
  const tracer = options.tracer ?? trace.getTracer('@idgate/telemetry');
  return {
    onEvent(event) {
      if (event.type !== 'upstream-call') return;
      const attributes: Attributes = {
        'idgate.operation': event.operation,
        // The identity provider's name on its calls (bizkithub unless another was configured).
        'idgate.upstream': event.provider ?? UPSTREAM[event.operation],
        'idgate.outcome': event.outcome,
      };
      if (event.code !== undefined) attributes['error.type'] = event.code;
      const span = tracer.startSpan(`idgate ${event.operation}`, { kind: SpanKind.CLIENT, startTime: event.startedAt, attributes }, context.active());
      if (event.outcome === 'error') span.setStatus({ code: SpanStatusCode.ERROR });
      span.end(event.startedAt + event.seconds * 1000);
    },
  };
}
