// autocannon, programmatically, with the checks the issue asks for: every
// response 2xx with the expected body, no errors, no timeouts. Latency is
// recorded here at microsecond resolution (autocannon's own histogram keeps
// whole milliseconds, too coarse for a sub-millisecond p50).
import autocannon from 'autocannon';
import { percentile } from './stats.mjs';

export class CheckFailed extends Error {
  name = 'CheckFailed';
}

/**
 * One bounded load. `cookies`: a single Cookie header, or an array cycled
 * through request by request across all connections (distinct identities).
 * @returns {Promise<{ responses: number, seconds: number, rps: number, p50: number, p99: number, raw: object }>}
 */
export async function load({ url, connections = 50, duration, amount, cookies, expectBody, overallRate, label, check = true }) {
  const cycle = Array.isArray(cookies);
  const latencies = new Float64Array(Math.min(4_000_000, Math.ceil((duration ?? 0) * 150_000) + (amount ?? 0) + 10_000));
  let n = 0;
  let next = 0;
  const options = {
    url,
    connections,
    pipelining: 1,
    timeout: 10,
    // autocannon stops only on a sample tick: the default 1 s tick rounds every load up to whole seconds.
    sampleInt: 100,
    ...(amount ? { amount } : { duration }),
    ...(overallRate ? { overallRate } : {}),
    ...(cycle
      ? {
          requests: [
            {
              method: 'GET',
              setupRequest(req) {
                req.headers = { cookie: cookies[next++ % cookies.length] };
                return req;
              },
            },
          ],
          verifyBody: expectBody === undefined ? undefined : (body) => body === expectBody,
        }
      : { headers: cookies ? { cookie: cookies } : {}, ...(expectBody === undefined ? {} : { expectBody }) }),
  };
  if (options.verifyBody === undefined) delete options.verifyBody;
  const started = process.hrtime.bigint();
  const instance = autocannon(options);
  instance.on('response', (_client, _status, _bytes, ms) => {
    if (n < latencies.length) latencies[n++] = ms;
  });
  // Bounded in time whatever happens (amount-based loads included).
  const limit = ((duration ?? 0) + 30) * 1000 + (amount ? 60_000 : 0);
  const guard = setTimeout(() => instance.stop(), limit);
  const raw = await Promise.resolve(instance).finally(() => clearTimeout(guard));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const responses = raw.requests.total;
  const sorted = latencies.subarray(0, n).sort();
  const result = { responses, seconds, rps: responses / seconds, p50: percentile(sorted, 50, true), p99: percentile(sorted, 99, true), latencies: sorted.slice(), raw };
  if (check) assertClean(result, label);
  return result;
}

/** Fail the run unless every response was a 2xx with the expected body. */
export function assertClean(result, label) {
  const r = result.raw;
  const problems = [];
  if (r.errors) problems.push(`${r.errors} errors`);
  if (r.timeouts) problems.push(`${r.timeouts} timeouts`);
  if (r.non2xx) problems.push(`${r.non2xx} non-2xx (${JSON.stringify(r.statusCodeStats)})`);
  if (r.mismatches) problems.push(`${r.mismatches} unexpected bodies`);
  if (!(r['2xx'] > 0)) problems.push('no 2xx response at all');
  if (problems.length) throw new CheckFailed(`${label}: ${problems.join(', ')}`);
}
