#!/usr/bin/env node
// idgate-mock --port 4010 [--host 127.0.0.1] [--idle-ms N] [--session-expired-status N] ...
import { DEMO_CUSTOMER, MOCK_API_KEY, type BizKitHubStatuses } from './bizkithub.js';
import { startMockUpstream } from './server.js';

// The statuses the BizKitHub documentation leaves open (see the README), one flag each.
const STATUS_FLAGS: Record<string, keyof BizKitHubStatuses> = {
  '--session-expired-status': 'sessionExpired',
  '--invalid-identity-status': 'invalidIdentity',
  '--login-error-status': 'loginError',
  '--e006-status': 'tooManyAttempts',
};

const USAGE =
  'usage: idgate-mock [--port 4010] [--host 127.0.0.1] [--idle-ms 1800000]\n' +
  '                   [--session-expired-status 401] [--invalid-identity-status 401] [--login-error-status 200] [--e006-status 429]';

interface CliOptions {
  port: number;
  host: string;
  sessionIdleMs: number | undefined;
  statuses: BizKitHubStatuses;
}

/** Reads the flags; exits with the usage line on anything it does not know. */
function parseArgs(argv: string[]): CliOptions {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (!(['--port', '--host', '--idle-ms'].includes(name) || name in STATUS_FLAGS) || value === undefined) fail(`unexpected argument "${arg}"`);
    flags.set(name, value);
  }
  const port = Number(flags.get('--port') ?? 4010);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail('--port must be an integer from 0 to 65535');
  const idle = flags.get('--idle-ms');
  const sessionIdleMs = idle === undefined ? undefined : Number(idle);
  if (sessionIdleMs !== undefined && !(sessionIdleMs > 0)) fail('--idle-ms must be a positive number');
  const statuses: BizKitHubStatuses = {};
  for (const [flag, key] of Object.entries(STATUS_FLAGS)) {
    const raw = flags.get(flag);
    if (raw === undefined) continue;
    const status = Number(raw);
    if (!/^\d{3}$/.test(raw) || status < 200 || status > 599) fail(`${flag} must be an HTTP status from 200 to 599`);
    statuses[key] = status;
  }
  return { port, host: flags.get('--host') ?? '127.0.0.1', sessionIdleMs, statuses };
}

function fail(message: string): never {
  console.error(`idgate-mock: ${message}\n${USAGE}`);
  process.exit(2);
}

// No top-level await: the same file is also built as CommonJS.
async function main(): Promise<void> {
  const mock = await startMockUpstream({ ...parseArgs(process.argv.slice(2)), quiet: false });
  console.log(`idgate-mock listening on ${mock.url}`);
  console.log(`  login ${DEMO_CUSTOMER.email} / ${DEMO_CUSTOMER.password}; any API key matching ^(PROD|DEV_|ROOT)[A-Za-z0-9]{28}$, e.g. ${MOCK_API_KEY}`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void mock.close().then(() => process.exit(0)));
  }
}

main().catch((err: unknown) => {
  console.error(`idgate-mock: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
