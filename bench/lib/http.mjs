// A small HTTP client for the checks and the latency samples: exact status,
// headers and body, a deadline on every call, and a high-resolution duration.
import http from 'node:http';

/** One keep-alive connection, so a latency sample never includes a TCP handshake. */
export const oneSocket = new http.Agent({ keepAlive: true, maxSockets: 1 });
/** No pooling: every request its own connection (the concurrent bursts). */
export const noPool = new http.Agent({ keepAlive: false, maxSockets: Infinity });

/**
 * @returns {Promise<{ status: number, headers: import('node:http').IncomingHttpHeaders, body: string, ms: number }>}
 */
export function request(url, { method = 'GET', headers = {}, body, agent = oneSocket, timeoutMs = 10_000 } = {}) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const started = process.hrtime.bigint();
    const req = http.request(
      url,
      { method, agent, headers: { ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}), ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: text, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

export const json = (res) => JSON.parse(res.body);
