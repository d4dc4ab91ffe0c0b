import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpstreamError } from './errors.js';
import { requestJson, type HttpPolicy } from './http.js';

const policy = (timeout: number): HttpPolicy => ({ timeout, totalTimeout: timeout, retries: 0, backoffBase: 0, backoffMax: 0, retryAfterMax: 0, maxBodyBytes: 65_536 });

describe('requestJson per-attempt timeout', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    // /fast answers at once; /slow never answers (the socket is closed by the test's end).
    server = createServer((req, res) => {
      if (req.url === '/fast') res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('an answered call disarms its timeout: its signal never fires afterwards (no abort event, no TimeoutError per call)', async () => {
    let signal: AbortSignal | undefined;
    const spy: typeof fetch = (url, init) => ((signal = init?.signal ?? undefined), fetch(url, init));
    // A timeout that a local answer meets even on a loaded machine, then a wait past it.
    const res = await requestJson(`${base}/fast`, policy(400), { label: 'test', fetch: spy });
    expect(res.body).toEqual({ ok: true });
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(signal).toBeDefined();
    expect(signal!.aborted).toBe(false);
  });

  it('a call with no answer within the timeout is aborted and reported as UPSTREAM_TIMEOUT', async () => {
    let signal: AbortSignal | undefined;
    const spy: typeof fetch = (url, init) => ((signal = init?.signal ?? undefined), fetch(url, init));
    const err = await requestJson(`${base}/slow`, policy(50), { label: 'test', fetch: spy }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).code).toBe('UPSTREAM_TIMEOUT');
    expect(signal!.aborted).toBe(true);
    expect((signal!.reason as Error).name).toBe('TimeoutError');
  });

  it("the caller's signal still aborts the call", async () => {
    const caller = new AbortController();
    const pending = requestJson(`${base}/slow`, policy(5_000), { label: 'test', signal: caller.signal }).catch((e: unknown) => e);
    setTimeout(() => caller.abort(), 20);
    const err = await pending;
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).message).toMatch(/aborted by the caller/);
  });
});
