// The mock upstream side of the bench: sessions at the mock, and direct calls
// to it for the latency baseline.
import { MOCK_API_KEY, DEMO_CUSTOMER } from '@idgate/mock-upstream';
import http from 'node:http';
import { request } from './http.mjs';
import { sessionKeys, signSession } from '@idgate/core/adapter';

/** The secret every bench server signs session cookies with. */
export const BENCH_SECRET = 'idgate-bench-secret-0123456789abcdef';
const benchKeys = sessionKeys([BENCH_SECRET]);
/** The session cookie value idgate issues for an upstream identityId (every variant uses it as its cookie). */
export const signedCookieValue = (identityId) => signSession(benchKeys, identityId, Date.now());
/** The upstream identityId inside a signed cookie value. */
export const rawOf = (value) => value.slice(0, 32);

const upstreamAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** Sign the demo customer in `n` times: `n` distinct live sessions, as the signed cookie values idgate would issue (a few calls in flight at once). */
export async function loginMany(mock, n, concurrency = 32) {
  const ids = new Array(n);
  let next = 0;
  async function worker() {
    while (next < n) {
      const i = next++;
      const res = await request(`${mock.url}/api/v1/customer/login`, {
        method: 'POST',
        agent: upstreamAgent,
        headers: { authorization: `Bearer ${MOCK_API_KEY}` },
        body: DEMO_CUSTOMER,
      });
      const body = JSON.parse(res.body);
      if (res.status !== 200 || typeof body.identityId !== 'string') throw new Error(`mock login failed: ${res.status} ${res.body}`);
      ids[i] = signedCookieValue(body.identityId);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return ids;
}

/** One profile call straight to the mock, as idgate makes it: the upstream's own latency as this client sees it. */
export function directProfile(mock, identityId, agent) {
  return request(`${mock.url}/api/v1/contact/profile`, {
    method: 'POST',
    agent,
    headers: { authorization: `Bearer ${MOCK_API_KEY}` },
    body: { apiKey: MOCK_API_KEY, identityId: identityId.slice(0, 32) },
  });
}

export { MOCK_API_KEY };
