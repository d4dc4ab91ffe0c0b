// What every example's server.ts needs around its app: an upstream (the
// embedded mock unless IDGATE_UPSTREAM_URL is set), the KYC client for the
// "Verify my identity" button, a start-up banner, and a clean shutdown.
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

/** A key in seed 001's format; the mock accepts any such key. */
export const DEMO_API_KEY = 'DEV_' + 'demoDemoDemoDemoDemoDemoDemo';

/** The upstream an example runs against. */
export interface DemoUpstream {
  idgate: { upstreamUrl: string; apiKey: string };
  /** The embedded mock, when no upstream is configured. */
  mock?: MockUpstream;
  /** KYC against `IDGATE_KYC_*` when set, else the embedded mock's app; absent otherwise. */
  kyc?: KycClient;
}

/** Start the embedded mock unless `IDGATE_UPSTREAM_URL` names a real upstream. */
export async function demoUpstream(mockOptions: MockUpstreamOptions = {}, env = process.env): Promise<DemoUpstream> {
  const mock = env.IDGATE_UPSTREAM_URL ? undefined : await startMockUpstream({ port: 0, ...mockOptions });
  const idgate = { upstreamUrl: env.IDGATE_UPSTREAM_URL ?? mock!.url, apiKey: env.IDGATE_API_KEY ?? DEMO_API_KEY };
  const kyc = env.IDGATE_KYC_BASE_URL
    ? createKycClient({
        baseUrl: env.IDGATE_KYC_BASE_URL,
        appId: env.IDGATE_KYC_APP_ID ?? '',
        appSecret: env.IDGATE_KYC_APP_SECRET ?? '',
        tenantId: env.IDGATE_KYC_TENANT_ID ?? '',
        formId: env.IDGATE_KYC_FORM_ID ?? '',
      })
    : mock && createKycClient({ baseUrl: mock.url, appId: MOCK_KYC_APP_ID, appSecret: MOCK_KYC_APP_SECRET, tenantId: MOCK_KYC_TENANT_ID, formId: MOCK_KYC_FORM_ID });
  return { idgate, ...(mock ? { mock } : {}), ...(kyc ? { kyc } : {}) };
}

/** Where an example listens: `PORT` (default 3000) on `HOST` (default 127.0.0.1). */
export function listenAddress(env = process.env): { port: number; host: string } {
  return { port: Number(env.PORT ?? 3000), host: env.HOST ?? '127.0.0.1' };
}

/** Print the URL and, with the embedded mock, the demo accounts; close everything on SIGINT/SIGTERM. */
export function announce(name: string, upstream: DemoUpstream, close: () => unknown): void {
  const { port, host } = listenAddress();
  const lines = [`idgate ${name} demo: http://${host === '127.0.0.1' ? 'localhost' : host}:${port}`];
  if (upstream.mock) {
    lines.push(`embedded mock upstream: ${upstream.mock.url}`);
    lines.push('demo accounts (pass: demo-password): demo@example.com, banned@example.com, unverified@example.com');
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  const stop = () => {
    void close();
    void upstream.mock?.close();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
