// What every example's server.ts needs around its app: an upstream (the
// embedded mock unless IDGATE_UPSTREAM_URL is set), the KYC client for the
// "Verify my identity" button, a pino logger, a start-up check, a banner, a
// clean shutdown, and one clear line instead of a stack when something the
// user set is wrong.
import { createServer, type RequestListener, type Server } from 'node:http';
import { pino } from 'pino';
import { ConfigError, IdgateError, createIdgate, type Idgate, type IdgateOptions, type Logger } from '@idgate/core';
import { createKycClient, type KycClient } from '@idgate/kyc';
import {
  MOCK_KYC_APP_ID,
  MOCK_KYC_APP_SECRET,
  MOCK_KYC_FORM_ID,
  MOCK_KYC_TENANT_ID,
  startMockUpstream,
  type MockUpstream,
  type MockUpstreamOptions,
} from '@idgate/mock-upstream';
import { AFTER_LOGOUT_URL } from './pages.js';

/** A key in seed 001's format; the mock accepts any such key. */
export const DEMO_API_KEY = 'DEV_' + 'demoDemoDemoDemoDemoDemoDemo';

/** A mistake in what the user set (PORT, HOST, a busy port…): printed as one line, no stack. */
export class DemoError extends Error {
  override name = 'DemoError';
}

/** The upstream an example runs against. */
export interface DemoUpstream {
  /**
   * idgate options: only what the environment does not set, so that core
   * reads `IDGATE_*` itself and its errors name the variable the user set.
   */
  idgate: IdgateOptions;
  /** The embedded mock, when no upstream is configured. */
  mock?: MockUpstream;
  /** KYC against `IDGATE_KYC_*` when set, else the embedded mock's app; absent otherwise. */
  kyc?: KycClient;
}

/**
 * Run `build` and, on a `ConfigError` about a value that came from the
 * environment, name the variable: `option \`appId\`` becomes
 * `IDGATE_KYC_APP_ID (option \`appId\`)`.
 */
export function namingEnv<T>(variables: Record<string, string>, env: NodeJS.ProcessEnv, build: () => T): T {
  try {
    return build();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const m = /option `([^`]+)`/.exec(err.message);
    const variable = m ? variables[m[1]!] : undefined;
    if (!m || variable === undefined || env[variable] === undefined) throw err;
    throw new DemoError(err.message.replace(m[0], `${variable} (option \`${m[1]}\`)`));
  }
}

const KYC_VARIABLES = { baseUrl: 'IDGATE_KYC_BASE_URL', appId: 'IDGATE_KYC_APP_ID', appSecret: 'IDGATE_KYC_APP_SECRET', tenantId: 'IDGATE_KYC_TENANT_ID', formId: 'IDGATE_KYC_FORM_ID' };

/**
 * Start the embedded mock unless `IDGATE_UPSTREAM_URL` names a real upstream
 * (or, with `needsChat`, unless `IDGATE_CHAT_URL` names a real chat API too).
 */
export async function demoUpstream(mockOptions: MockUpstreamOptions = {}, env = process.env, needsChat = false): Promise<DemoUpstream> {
  const mock = !env.IDGATE_UPSTREAM_URL || (needsChat && !env.IDGATE_CHAT_URL) ? await startMockUpstream({ port: 0, ...mockOptions }) : undefined;
  const idgate: IdgateOptions = {};
  if (!env.IDGATE_UPSTREAM_URL) idgate.upstreamUrl = mock!.url;
  // Set but empty is left to core, which names IDGATE_API_KEY in its message.
  if (env.IDGATE_API_KEY === undefined) idgate.apiKey = DEMO_API_KEY;
  const kyc = env.IDGATE_KYC_BASE_URL
    ? namingEnv(KYC_VARIABLES, env, () =>
        createKycClient({
          baseUrl: env.IDGATE_KYC_BASE_URL!,
          appId: env.IDGATE_KYC_APP_ID ?? '',
          appSecret: env.IDGATE_KYC_APP_SECRET ?? '',
          tenantId: env.IDGATE_KYC_TENANT_ID ?? '',
          formId: env.IDGATE_KYC_FORM_ID ?? '',
        }),
      )
    : mock && !env.IDGATE_UPSTREAM_URL
      ? createKycClient({ baseUrl: mock.url, appId: MOCK_KYC_APP_ID, appSecret: MOCK_KYC_APP_SECRET, tenantId: MOCK_KYC_TENANT_ID, formId: MOCK_KYC_FORM_ID })
      : undefined;
  return { idgate, ...(mock ? { mock } : {}), ...(kyc ? { kyc } : {}) };
}

/** Where an example listens: `PORT` (default 3000) on `HOST` (default 127.0.0.1); a bad value throws `DemoError`. */
export function listenAddress(env = process.env): { port: number; host: string } {
  const raw = env.PORT ?? '3000';
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 65_535) {
    throw new DemoError(`PORT=${JSON.stringify(raw)} is not a port number: set PORT to an integer from 0 to 65535 (default 3000)`);
  }
  const host = env.HOST ?? '127.0.0.1';
  if (host.trim() === '') throw new DemoError('HOST is set but empty: set it to an address of this machine, or unset it (default 127.0.0.1)');
  return { port: Number(raw), host };
}

/** Listen on `port`/`host`; resolves once listening, rejects with a `DemoError` naming PORT/HOST when that is impossible. */
export function listen(server: Server, address: { port: number; host: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException) => reject(listenError(err, address));
    server.once('error', failed);
    server.listen(address.port, address.host, () => {
      server.off('error', failed);
      resolve();
    });
  });
}

/** A `DemoError` for a listen failure whose cause the user controls (busy port, forbidden port, foreign HOST), else the error itself. */
export function listenError(err: unknown, { port, host }: { port: number; host: string }): unknown {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'EADDRINUSE') return new DemoError(`port ${port} on ${host} is already in use: stop the other server or set PORT to a free port`);
  if (code === 'EACCES') return new DemoError(`not allowed to listen on port ${port} on ${host}: set PORT to 1024 or above`);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new DemoError(`HOST=${JSON.stringify(host)} is not an address of this machine (${code}): set HOST, or unset it (default 127.0.0.1)`);
  return err;
}

/** The one line printed for an error the user can fix, or undefined for a bug (which keeps its stack). */
export function userFacingLine(err: unknown): string | undefined {
  if (err instanceof DemoError) return err.message;
  if (err instanceof IdgateError) return err.message.startsWith('idgate') || err.message.startsWith('@idgate') ? err.message : `idgate: ${err.message}`;
  return undefined;
}

/** What `runDemo` gives the example's start function. */
export interface DemoContext {
  /** The gate, created from the environment and checked against the upstream. */
  gate: Idgate;
  upstream: DemoUpstream;
  address: { port: number; host: string };
  logger: Logger;
}

/** What `runDemo` needs from an example. */
export interface DemoSpec {
  /** Shown in the banner: "idgate Express demo". */
  name: string;
  /** Options of the embedded mock. */
  mock?: MockUpstreamOptions;
  /** Extra idgate options (e.g. `afterLoginUrl`). */
  idgate?: IdgateOptions;
  /** Start the embedded mock when `IDGATE_CHAT_URL` is not set. */
  needsChat?: boolean;
  /** Build and start the app; resolves to its close function once listening. */
  start(context: DemoContext): Promise<() => unknown>;
}

/**
 * The whole life of an example process: validate PORT/HOST, start the
 * upstream, create the gate (core reads `IDGATE_*`), check the upstream,
 * start the app, print the banner; SIGINT/SIGTERM close everything and exit.
 * A mistake the user can fix prints one line on stderr and exits 1.
 * @example await runDemo({ name: 'Express', start: async ({ gate, address }) => { … } });
 */
export async function runDemo(spec: DemoSpec, env = process.env): Promise<void> {
  let upstream: DemoUpstream | undefined;
  try {
    const address = listenAddress(env);
    const logger = pino({ name: `idgate-${spec.name.toLowerCase()}-demo`, level: env.LOG_LEVEL ?? 'info' });
    upstream = await demoUpstream(spec.mock, env, spec.needsChat);
    const gate = createIdgate({ afterLogoutUrl: AFTER_LOGOUT_URL, ...spec.idgate, ...upstream.idgate, logger });
    try {
      await gate.check();
    } catch (err) {
      // A configuration mistake stops here; an upstream that is down may come back.
      if (err instanceof ConfigError) throw err;
      logger.warn({ event: 'startup-check' }, (err as Error).message);
    }
    const close = await spec.start({ gate, upstream, address, logger });
    announce(spec.name, upstream, address, close);
  } catch (err) {
    const line = userFacingLine(err);
    if (line === undefined) throw err;
    process.stderr.write(`${line}\n`);
    await upstream?.mock?.close();
    process.exit(1);
  }
}

/** A node:http server for a request listener (Express app, Koa's `app.callback()`). */
export const httpServer = (listener: RequestListener): Server => createServer(listener);

/** Print the URL and, with the embedded mock, the demo accounts; close everything and exit on SIGINT/SIGTERM. */
export function announce(name: string, upstream: DemoUpstream, address: { port: number; host: string }, close: () => unknown): void {
  const { port, host } = address;
  const lines = [`idgate ${name} demo: http://${host === '127.0.0.1' ? 'localhost' : host}:${port}`];
  if (upstream.mock) {
    lines.push(`embedded mock upstream: ${upstream.mock.url}`);
    lines.push('demo accounts (pass: demo-password): demo@example.com, banned@example.com, unverified@example.com');
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  const stop = () => {
    // Open keep-alive connections or a streaming answer must not keep the port served.
    setTimeout(() => process.exit(0), 2_000).unref();
    void Promise.allSettled([Promise.resolve().then(close), upstream.mock?.close()]).then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
