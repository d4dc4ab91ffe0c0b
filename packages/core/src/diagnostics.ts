// Operator diagnostics: failures that no retry will cure because the
// configuration is wrong (a key the upstream rejects, a path it does not
// serve, a host that does not resolve, a port nobody listens on). Users only
// see "Sign-in is unavailable"; the operator must be told what to fix, even
// when no logger was given, but not once per request.
import { ConfigError, UpstreamError } from './errors.js';
import type { Logger } from './logger.js';
import type { UpstreamClient } from './upstream.js';

/** The `code` of a diagnostic: the warning code `process.emitWarning` prints, and the log line's `code`. */
export type DiagnosticCode =
  | 'IDGATE_UPSTREAM_REJECTED'
  | 'IDGATE_UPSTREAM_PATH_NOT_FOUND'
  | 'IDGATE_UPSTREAM_HOST_NOT_FOUND'
  | 'IDGATE_UPSTREAM_CONNECTION_REFUSED';

/** One configuration-class failure, with a one-line message that names what to change. */
export interface Diagnostic {
  readonly code: DiagnosticCode;
  /** One line, no secret: names the variable (or option) to fix. */
  readonly message: string;
}

/** What a diagnostic's message calls the settings it blames. */
export interface DiagnosticNames {
  /** `IDGATE_API_KEY` when the key came from the environment, else "option `apiKey`". */
  apiKey: string;
  /** `IDGATE_UPSTREAM_URL` when the URL came from the environment, else "option `upstreamUrl`". */
  upstreamUrl: string;
  /** Host (and port) of the upstream, never its userinfo or query. */
  host: string;
  /** The configured path of each call (HTTP providers that have them). */
  paths?: Readonly<Record<'login' | 'profile' | 'logout', string>> | undefined;
}

/**
 * Where a provider keeps the names its diagnostics use (the built-in
 * BizKitHub provider: the option or `IDGATE_*` variable to fix); a provider
 * without them gets `providerNames(provider.name)`.
 */
export const DIAGNOSTIC_NAMES: unique symbol = Symbol.for('idgate.diagnosticNames');

/**
 * Names for the diagnostics of a provider that does not bring its own: its
 * settings, as a whole.
 * @example providerNames('sessions').upstreamUrl // 'the settings of provider "sessions"'
 */
export function providerNames(name: string): DiagnosticNames {
  return { apiKey: `the credentials of provider "${name}"`, upstreamUrl: `the settings of provider "${name}"`, host: `provider "${name}"` };
}

/** Names for a diagnostic's message, from the options as given (before the environment filled them in). */
export function diagnosticNames(given: { apiKey?: unknown; upstreamUrl?: unknown } | undefined, config: { upstreamUrl: string; paths: DiagnosticNames['paths'] }): DiagnosticNames {
  let host = '(unparsable URL)';
  try {
    host = new URL(config.upstreamUrl).host;
  } catch {
    // The config has validated it; keep the placeholder for a custom one.
  }
  return {
    apiKey: given?.apiKey === undefined ? 'IDGATE_API_KEY' : 'option `apiKey`',
    upstreamUrl: given?.upstreamUrl === undefined ? 'IDGATE_UPSTREAM_URL' : 'option `upstreamUrl`',
    host,
    paths: config.paths,
  };
}

// The system error code (ENOTFOUND, ECONNREFUSED, …) and hostname anywhere in the cause chain (fetch wraps it twice).
function systemCause(err: unknown): { code: string; hostname?: string } | undefined {
  for (let e = err, depth = 0; e !== null && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, hostname } = e as { code?: unknown; hostname?: unknown };
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code) && !code.startsWith('E0')) {
      return typeof hostname === 'string' ? { code, hostname } : { code };
    }
  }
  return undefined;
}

/**
 * The diagnostic for an error of an upstream call, or undefined when the
 * error is not a configuration problem (an outage, a wrong password, …).
 * @example
 * const d = diagnose(err, 'profile', names);
 * if (d) process.emitWarning(d.message, { code: d.code });
 */
export function diagnose(err: unknown, operation: 'login' | 'profile' | 'logout', names: DiagnosticNames): Diagnostic | undefined {
  if (!(err instanceof UpstreamError)) return undefined;
  const status = err.upstreamStatus;
  if (err.code === 'UPSTREAM_REJECTED' && status !== undefined) {
    const what = err.upstreamCode === undefined ? `${status}` : `${status} ${err.upstreamCode}`;
    return { code: 'IDGATE_UPSTREAM_REJECTED', message: `idgate: the upstream rejected ${names.apiKey} (${what})` };
  }
  if (status === 404 && !err.outage) {
    const where = names.paths
      ? ` on ${names.paths[operation]} (${operation}); check ${names.upstreamUrl} and the \`paths.${operation}\` option`
      : ` (${operation}); check ${names.upstreamUrl}`;
    return { code: 'IDGATE_UPSTREAM_PATH_NOT_FOUND', message: `idgate: the upstream at ${names.host} answered 404${where}` };
  }
  const system = systemCause(err);
  if (system?.code === 'ENOTFOUND' || system?.code === 'EAI_AGAIN') {
    return {
      code: 'IDGATE_UPSTREAM_HOST_NOT_FOUND',
      message: `idgate: cannot resolve the upstream host ${system.hostname ?? names.host} (${system.code}); check ${names.upstreamUrl}`,
    };
  }
  if (system?.code === 'ECONNREFUSED') {
    return {
      code: 'IDGATE_UPSTREAM_CONNECTION_REFUSED',
      message: `idgate: nothing accepts connections at the upstream ${names.host} (ECONNREFUSED); check ${names.upstreamUrl} or start the upstream`,
    };
  }
  return undefined;
}

/** Reports diagnostics once per cause, then at most once per `interval`. */
export interface DiagnosticsReporter {
  /** Report `diagnostic` unless the same one was reported within the interval; true when it was written. */
  report(diagnostic: Diagnostic): boolean;
}

/** Where diagnostics go and how often. */
export interface DiagnosticsOptions {
  /** The logger the user gave; without one, `process.emitWarning`. */
  logger?: Logger | undefined;
  /** Shortest time between two reports of one cause, ms. @default 60_000 */
  interval?: number;
  /** Clock. @default Date.now */
  now?: () => number;
}

const MAX_CAUSES = 64;

/**
 * A reporter that writes each diagnostic through `logger.warn` when a logger
 * was given, otherwise through `process.emitWarning(message, { code })`, at
 * most once per cause per `interval`.
 * @example
 * const reporter = createDiagnostics({ logger });
 * reporter.report({ code: 'IDGATE_UPSTREAM_REJECTED', message: 'idgate: the upstream rejected IDGATE_API_KEY (401)' });
 */
export function createDiagnostics(options: DiagnosticsOptions = {}): DiagnosticsReporter {
  const interval = options.interval ?? 60_000;
  const now = options.now ?? Date.now;
  const last = new Map<string, number>();
  return {
    report(diagnostic) {
      const key = `${diagnostic.code}\n${diagnostic.message}`;
      const t = now();
      const previous = last.get(key);
      if (previous !== undefined && t - previous < interval) return false;
      last.delete(key);
      last.set(key, t);
      // A bounded map: the causes are few, but a flapping DNS name must not grow it.
      if (last.size > MAX_CAUSES) last.delete(last.keys().next().value!);
      if (options.logger) options.logger.warn({ event: 'config-diagnostic', code: diagnostic.code }, diagnostic.message);
      else process.emitWarning(diagnostic.message, { code: diagnostic.code });
      return true;
    },
  };
}

/**
 * The same client, reporting every configuration-class failure of its calls
 * to `reporter` (the error still propagates unchanged).
 * @example const upstream = observeUpstream(createUpstreamClient(config), createDiagnostics(), names);
 */
export function observeUpstream(client: UpstreamClient, reporter: DiagnosticsReporter, names: DiagnosticNames): UpstreamClient {
  const seen = (operation: 'login' | 'profile' | 'logout') => (err: unknown): never => {
    const diagnostic = diagnose(err, operation, names);
    if (diagnostic) reporter.report(diagnostic);
    throw err;
  };
  return {
    circuit: client.circuit,
    login: (input, signal) => client.login(input, signal).catch(seen('login')),
    profile: (identityId, signal) => client.profile(identityId, signal).catch(seen('profile')),
    logout: (identityId) => client.logout(identityId).catch(seen('logout')),
  };
}

/** A well-formed identityId no upstream issues: the start-up check asks for its profile. */
export const CHECK_IDENTITY_ID = 'idgateStartupCheck00000000000000';

/**
 * Ask the upstream for the profile of an identity that does not exist: any
 * definitive answer about the session proves the URL, the path and the key.
 * A configuration problem throws `ConfigError` with the diagnostic's message;
 * an outage (timeout, 5xx) throws `UpstreamError`.
 * @example await checkUpstream(upstream, names);
 */
export async function checkUpstream(client: UpstreamClient, names: DiagnosticNames): Promise<void> {
  try {
    await client.profile(CHECK_IDENTITY_ID, AbortSignal.timeout(10_000));
  } catch (err) {
    const diagnostic = diagnose(err, 'profile', names);
    if (diagnostic) throw new ConfigError(diagnostic.message, { cause: err });
    if (err instanceof UpstreamError) {
      throw new UpstreamError(err.code, `idgate: the upstream at ${names.host} gave no usable answer (${err.message}); check ${names.upstreamUrl}`, {
        cause: err,
        ...(err.upstreamStatus === undefined ? {} : { upstreamStatus: err.upstreamStatus }),
      });
    }
    throw err;
  }
}
