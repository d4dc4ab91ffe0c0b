// Raw HTTP/1.1 over TCP for the differential suites (boundary, cookie-boundary,
// email-boundary): a request goes out byte for byte as written (each character
// of the string is one byte, latin1), so the server's own HTTP parser, not a
// client library, decides what the request is. One fresh socket per request,
// `Connection: close` (the caller writes it), bounded in time.
import { connect } from 'node:net';

/** What came back: status 0 when the server answered nothing within the time bound. */
export interface RawAnswer {
  status: number;
  /** Response headers, names lowercased (last value wins). */
  headers: Record<string, string>;
  /** The body as UTF-8 text, de-chunked. */
  body: string;
}

/** How long one exchange may take before it counts as "no answer". */
export const RAW_TIMEOUT_MS = 2_000;

/** A string's UTF-8 bytes as latin1 characters: what goes on the wire for non-ASCII text. */
export const utf8Bytes = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

/** Undo `Transfer-Encoding: chunked` (a server may stream a small JSON body that way). */
function dechunk(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  while (at < body.length) {
    const eol = body.indexOf('\r\n', at);
    if (eol === -1) break;
    const size = Number.parseInt(body.subarray(at, eol).toString('latin1'), 16);
    if (!(size > 0)) break;
    parts.push(body.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

function parse(raw: Buffer): RawAnswer {
  const end = raw.indexOf('\r\n\r\n');
  const head = (end === -1 ? raw : raw.subarray(0, end)).toString('latin1');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = end === -1 ? Buffer.alloc(0) : raw.subarray(end + 4);
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) body = dechunk(body);
  return { status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0), headers, body: body.toString('utf8') };
}

/**
 * Send one request, written in full by the caller (request line, headers, the
 * blank line, any body), over a fresh socket; resolves when the server closes
 * or after `timeoutMs`.
 * @example await exchange(port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')
 */
export function exchange(port: number, request: string | Buffer, timeoutMs = RAW_TIMEOUT_MS): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parse(Buffer.concat(chunks)));
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('close', finish);
    socket.on('error', () => {});
    // write, not end: Node's HTTP server aborts requests still in flight when the client half-closes
    // (httpAllowHalfOpen is false), so an answer that waits for an upstream call would be lost.
    socket.write(typeof request === 'string' ? Buffer.from(request, 'latin1') : request);
  });
}

/**
 * Run `task` over every item, at most `width` at a time, answers in input order.
 * @example const answers = await inPool(targets, 16, (t) => exchange(port, get(t)));
 */
export async function inPool<T, R>(items: readonly T[], width: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await task(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return out;
}
