import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { createBizKitHub } from './bizkithub.js';
import type { BizKitHubOptions, CustomerInput, SessionInfo } from './bizkithub.js';
import { createKyc, type KycMockOptions } from './kyc.js';
import { createChat, type ChatContact, type ChatConversation, type ChatMockOptions } from './chat.js';

/**
 * Options of {@link startMockUpstream}; every one has a default.
 * @example await startMockUpstream({ port: 0, sessionIdleMs: 60_000, quiet: true })
 */
export interface MockUpstreamOptions extends BizKitHubOptions {
  /** Port to listen on; 0 picks a free one. @default 0 */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** The clock sessions and login attempts are measured with; `advanceClock` adds to it. @default Date.now */
  now?: () => number;
  /** Log one line per request to stdout (never the query string or body, so no secrets). @default true */
  quiet?: boolean;
  /** The KYC (Azakaw GetSessionId) emulation: app credentials, forms, clients, session lifetime, rate limit. */
  kyc?: KycMockOptions;
  /** The chat (Bookbag) emulation: accepted keys, per-event stream delay, reply text. */
  chat?: ChatMockOptions;
}

/**
 * One emulated endpoint of a route module; `name` keys the counters, the request log and faults.
 * @example { name: 'login', method: 'POST', path: '/api/v1/customer/login', handler: (req) => ({ status: 200, body: {} }) }
 */
export interface MockRoute {
  name: string;
  method: string;
  /** An exact path, or a RegExp whose capture groups arrive as `req.params`. */
  path: string | RegExp;
  /** Returns the reply, or null after answering through `req.res` itself (streaming). */
  handler: (req: MockRequest) => MockReply | null | Promise<MockReply | null>;
}

/**
 * A route module (BizKitHub today; KYC and chat plug in the same way): its routes and how to return to its initial data.
 * @example const mod: MockModule = { routes: [], reset() {} };
 */
export interface MockModule {
  routes: MockRoute[];
  reset(): void;
}

/**
 * A request as the request log keeps it.
 * @example mock.requests('login')[0]?.body // { email: 'demo@example.com', password: '…' }
 */
export interface RecordedRequest {
  route: string;
  method: string;
  /** The path without the query string. */
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** Parsed JSON; the raw text when it is not JSON; undefined when empty. */
  body: unknown;
}

/**
 * What a route handler receives.
 * @example const key = req.headers.authorization ?? req.query.apiKey;
 */
export interface MockRequest extends RecordedRequest {
  /** True when a non-empty body is not JSON (`body` then holds the raw text). */
  malformed: boolean;
  params: string[];
  res: ServerResponse;
}

/**
 * A handler's answer, sent as JSON.
 * @example { status: 429, headers: { 'retry-after': '60' }, body: { success: false, error: 'E006' } }
 */
export interface MockReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/**
 * An injected misbehaviour for the calls of one route (or '*').
 * @example mock.fault({ route: 'profile', status: 503, headers: { 'retry-after': '1' }, times: 2 })
 */
export interface MockFault {
  /** A route name (`login`, `profile`, `logout`) or '*' for every route. */
  route: string;
  /** Wait this long first; alone, the call is then answered normally. */
  latencyMs?: number;
  /** Answer this status instead of calling the route. @default 200 when `body` or `bodyBytes` is given */
  status?: number;
  /** A string is sent raw (so it may be malformed JSON); anything else is sent as JSON. */
  body?: unknown;
  /** Added to the fault's answer, or to the normal answer when the fault has no status/body. */
  headers?: Record<string, string>;
  /** Destroy the socket without answering. */
  drop?: boolean;
  /** Never answer; the socket stays open until the client gives up or the mock closes. */
  hang?: boolean;
  /** Send the headers, then one byte of a never-ending body every 50 ms. */
  trickle?: boolean;
  /** Send a body of this many bytes of 'x' as application/json. */
  bodyBytes?: number;
  /** How many matching calls it applies to. @default every call until cleared */
  times?: number;
  /** Share of matching calls (0–1) it applies to, e.g. 0.05 for "5% fail"; the others pass through. @default 1 */
  probability?: number;
}

/**
 * Calls per route name, faulted ones included, plus `total`; the control surface is not counted.
 * @example expect(mock.calls()).toMatchObject({ login: 1, profile: 0, total: 1 })
 */
export interface MockCalls {
  [route: string]: number;
  total: number;
  login: number;
  profile: number;
  logout: number;
}

/**
 * A running mock upstream.
 * @example const mock = await startMockUpstream(); await fetch(`${mock.url}/__mock/calls`); await mock.close();
 */
export interface MockUpstream {
  /** `http://host:port`, without a trailing slash. */
  url: string;
  port: number;
  /** Stops listening and destroys every open socket, hanging ones included. */
  close(): Promise<void>;
  calls(): MockCalls;
  /** The last 500 requests to emulated routes, oldest first, optionally of one route. */
  requests(route?: string): RecordedRequest[];
  /** Back to the start: counters, request log, faults, sessions, login attempts, customers, clock; `only: 'calls'` clears counters and the log only. */
  reset(opts?: { only?: 'calls' }): void;
  /** Adds one fault or several; they are consumed in the order added. */
  fault(f: MockFault | MockFault[]): void;
  clearFaults(): void;
  /** Marks matching sessions SESSION_EXPIRED; returns how many were still alive. */
  expire(target: { email: string } | { identityId: string }): number;
  /** Adds a customer, or replaces the one with the same normalized email. */
  addCustomer(c: CustomerInput): { id: string; email: string };
  /** Moves the virtual clock forward. */
  advanceClock(ms: number): void;
  sessions(): SessionInfo[];
  /** Chat streams whose client disconnected before the last event. */
  chatAborts(): number;
  /** Upserted chat contacts, oldest first, optionally of one chatbot. */
  contacts(chatbotId?: string): ChatContact[];
  chatConversations(): ChatConversation[];
  /** Sets the wait before each streamed chat event until the next reset. */
  setChatTokenDelay(ms: number): void;
}

interface ActiveFault extends MockFault {
  remaining: number;
}

type ControlHandler = (req: MockRequest) => MockReply;

const BODY_LIMIT = 64 * 1024;
const LOG_LIMIT = 500;
const JSON_TYPE = 'application/json; charset=utf-8';
const NOT_FOUND: MockReply = { status: 404, body: { error: 'NOT_FOUND' } };
const OK: MockReply = { status: 200, body: { ok: true } };
const FORBIDDEN_HOST: MockReply = { status: 403, body: { error: 'FORBIDDEN_HOST', message: 'The control routes answer only a loopback Host (localhost, 127.x.x.x, [::1]).' } };

/**
 * Whether a `Host` header names this machine's loopback: `localhost`,
 * `127.x.x.x` or `[::1]`, with or without a port. The control routes answer
 * only these, so a web page cannot read them by DNS rebinding (its requests
 * carry the attacker's host name, whatever address it resolved to).
 * @example isLoopbackHost('localhost:4010') // true
 * @example isLoopbackHost('attacker.example:4010') // false
 */
function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  const m = /^(?:(\[[0-9a-f:.]+\])|([^:[\]]+))(?::\d{1,5})?$/i.exec(host);
  if (!m) return false;
  if (m[1] !== undefined) return m[1] === '[::1]' || m[1] === '[0:0:0:0:0:0:0:1]';
  const name = m[2]!.toLowerCase();
  if (name === 'localhost') return true;
  const v4 = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(name);
  return v4 !== null && v4.slice(1).every((octet) => Number(octet) <= 255);
}

/**
 * Starts the mock upstream on a real socket.
 * @example
 * const mock = await startMockUpstream({ port: 0 });
 * const res = await fetch(`${mock.url}/api/v1/customer/login`, { method: 'POST', headers: { authorization: `Bearer ${MOCK_API_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(DEMO_CUSTOMER) });
 * await mock.close();
 */
export async function startMockUpstream(options: MockUpstreamOptions = {}): Promise<MockUpstream> {
  const baseNow = options.now ?? Date.now;
  let offsetMs = 0;
  const now = (): number => baseNow() + offsetMs;
  const quiet = options.quiet ?? true;

  const bizkithub = createBizKitHub(options, now);
  const chat = createChat(options.chat ?? {}, now);
  // A route module registers here, one line each.
  const modules: MockModule[] = [bizkithub, createKyc(options.kyc ?? {}, now), chat];

  const exact = new Map<string, MockRoute>();
  const patterns: MockRoute[] = [];
  const names = new Set<string>();
  for (const route of modules.flatMap((m) => m.routes)) {
    if (names.has(route.name) || route.name === 'total' || route.name === '*') throw new Error(`Duplicate route name "${route.name}".`);
    names.add(route.name);
    if (typeof route.path === 'string') exact.set(`${route.method} ${route.path}`, route);
    else patterns.push(route);
  }

  let counts: Record<string, number> = {};
  let total = 0;
  let log: RecordedRequest[] = [];
  let faults: ActiveFault[] = [];
  // Latency timers and trickle intervals, so close() leaves nothing behind.
  const timers = new Set<NodeJS.Timeout>();

  function clearCalls(): void {
    counts = Object.fromEntries([...names].map((n) => [n, 0]));
    total = 0;
    log = [];
  }
  clearCalls();

  const mock: MockUpstream = {
    url: '',
    port: 0,
    close,
    calls: () => ({ ...counts, total }) as MockCalls,
    requests: (route) => (route === undefined ? log.slice() : log.filter((r) => r.route === route)),
    reset(opts) {
      if (opts !== undefined && (typeof opts !== 'object' || opts === null || (opts.only !== undefined && opts.only !== 'calls'))) {
        throw new TypeError('reset: expected nothing or { only: "calls" }.');
      }
      clearCalls();
      if (opts?.only === 'calls') return;
      faults = [];
      offsetMs = 0;
      for (const m of modules) m.reset();
    },
    fault(f) {
      const list = (Array.isArray(f) ? f : [f]).map((one) => checkFault(one, names));
      faults.push(...list);
    },
    clearFaults() {
      faults = [];
    },
    expire: (target) => bizkithub.expire(target),
    addCustomer: (c) => bizkithub.addCustomer(c),
    advanceClock(ms) {
      if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw new TypeError('advanceClock: expected a non-negative number of milliseconds.');
      offsetMs += ms;
    },
    sessions: () => bizkithub.sessions(),
    chatAborts: () => chat.aborts(),
    contacts: (chatbotId) => chat.contacts(chatbotId),
    chatConversations: () => chat.conversations(),
    setChatTokenDelay: (ms) => chat.setTokenDelay(ms),
  };

  const control: Record<string, ControlHandler> = {
    'GET /__mock/calls': () => ({ status: 200, body: mock.calls() }),
    'GET /__mock/requests': (req) => ({ status: 200, body: mock.requests(req.query.route) }),
    'POST /__mock/reset': (req) => (mock.reset(req.body as { only?: 'calls' } | undefined), OK),
    'POST /__mock/faults': (req) => (mock.fault(req.body as MockFault), OK),
    'DELETE /__mock/faults': () => (mock.clearFaults(), OK),
    'POST /__mock/expire': (req) => ({ status: 200, body: { ok: true, expired: mock.expire(req.body as { email: string }) } }),
    'POST /__mock/customers': (req) => ({ status: 201, body: { ok: true, ...mock.addCustomer(req.body as CustomerInput) } }),
    'POST /__mock/clock': (req) => {
      mock.advanceClock((req.body as { advanceMs?: number } | undefined)?.advanceMs as number);
      return { status: 200, body: { ok: true, offsetMs } };
    },
    'GET /__mock/sessions': () => ({ status: 200, body: mock.sessions() }),
    'GET /__mock/contacts': (req) => ({ status: 200, body: mock.contacts(req.query.chatbotId) }),
    'GET /__mock/chat': () => ({ status: 200, body: { tokenDelayMs: chat.tokenDelay(), aborts: mock.chatAborts(), conversations: mock.chatConversations() } }),
    'POST /__mock/chat': (req) => {
      mock.setChatTokenDelay((req.body as { tokenDelayMs?: number } | undefined)?.tokenDelayMs as number);
      return { status: 200, body: { ok: true, tokenDelayMs: chat.tokenDelay() } };
    },
  };

  function takeFault(route: string): ActiveFault | undefined {
    const i = faults.findIndex((f) => (f.route === route || f.route === '*') && (f.probability === undefined || Math.random() < f.probability));
    if (i === -1) return undefined;
    const f = faults[i]!;
    if (--f.remaining <= 0) faults.splice(i, 1);
    return f;
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    let route: MockRoute | undefined;
    let params: string[] = [];
    let controlHandler: ControlHandler | undefined;
    let forbidden = false;
    if (path.startsWith('/__mock/')) {
      // Requests log (passwords, keys), sessions: only for a loopback Host, checked before anything is read.
      forbidden = !isLoopbackHost(req.headers.host);
      if (!forbidden) controlHandler = control[`${method} ${path}`];
    } else {
      route = exact.get(`${method} ${path}`);
      if (!route) {
        for (const r of patterns) {
          const m = r.method === method ? (r.path as RegExp).exec(path) : null;
          if (m) {
            route = r;
            params = m.slice(1);
            break;
          }
        }
      }
    }
    if (!quiet) logLine(res, method, path, route?.name);
    if (forbidden) return send(res, FORBIDDEN_HOST);
    if (!route && !controlHandler) return send(res, NOT_FOUND);
    if (route) {
      counts[route.name] = (counts[route.name] ?? 0) + 1;
      total++;
    }

    const raw = await readBody(req);
    if (raw === null) {
      return send(res, { status: 413, body: { success: false, error: 'PAYLOAD_TOO_LARGE', message: `The body exceeds ${BODY_LIMIT} bytes.` } });
    }
    let body: unknown;
    let malformed = false;
    if (raw !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
        malformed = true;
      }
    }
    const query: Record<string, string> = q === -1 ? {} : Object.fromEntries(new URLSearchParams(url.slice(q + 1)));
    const record: RecordedRequest = { route: route?.name ?? 'control', method, path, query, headers: req.headers, body };
    const request: MockRequest = { ...record, malformed, params, res };

    if (controlHandler) {
      if (malformed) return send(res, { status: 400, body: { error: 'BAD_REQUEST', message: 'Malformed JSON body.' } });
      try {
        return send(res, controlHandler(request));
      } catch (err) {
        if (err instanceof TypeError) return send(res, { status: 400, body: { error: 'BAD_REQUEST', message: err.message } });
        throw err;
      }
    }

    log.push(record);
    if (log.length > LOG_LIMIT) log.shift();

    const fault = takeFault(route!.name);
    if (fault) {
      if (fault.latencyMs) {
        await sleep(fault.latencyMs);
        if (req.socket.destroyed) return;
      }
      if (fault.drop) return void req.socket.destroy();
      if (fault.hang) return;
      if (fault.trickle) return trickle(res, fault);
      if (fault.bodyBytes !== undefined) return sendBytes(res, fault);
      if (fault.status !== undefined || fault.body !== undefined) {
        return send(res, { status: fault.status ?? 200, body: fault.body ?? { error: 'INJECTED_FAULT' }, headers: fault.headers ?? {} });
      }
    }
    const reply = await route!.handler(request);
    if (reply) send(res, fault?.headers ? { ...reply, headers: { ...reply.headers, ...fault.headers } } : reply);
  }

  function trickle(res: ServerResponse, fault: MockFault): void {
    res.writeHead(fault.status ?? 200, { 'content-type': JSON_TYPE, ...fault.headers });
    res.write('{"success":true,"padding":"');
    const t = setInterval(() => res.write('x'), 50);
    timers.add(t);
    res.on('close', () => {
      clearInterval(t);
      timers.delete(t);
    });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // A client that went away mid-body is not an error worth answering.
      if (res.headersSent || res.destroyed) return void res.destroy();
      send(res, { status: 500, body: { error: 'INTERNAL', message: err instanceof Error ? err.message : String(err) } });
    });
  });

  async function close(): Promise<void> {
    for (const t of timers) clearTimeout(t);
    timers.clear();
    if (!server.listening) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      // close() alone waits for keep-alive, hanging and trickling sockets; tests must end promptly.
      server.closeAllConnections();
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  mock.port = address.port;
  mock.url = `http://${host}:${address.port}`;
  return mock;
}

function checkFault(f: MockFault, names: Set<string>): ActiveFault {
  if (typeof f !== 'object' || f === null) throw new TypeError('fault: expected an object.');
  if (f.route !== '*' && !names.has(f.route)) {
    throw new TypeError(`fault.route: "${String(f.route)}" is not one of *, ${[...names].join(', ')}.`);
  }
  for (const key of ['latencyMs', 'bodyBytes', 'times'] as const) {
    const v = f[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < (key === 'times' ? 1 : 0))) {
      throw new TypeError(`fault.${key}: expected an integer ${key === 'times' ? '>= 1' : '>= 0'}.`);
    }
  }
  if (f.status !== undefined && (!Number.isInteger(f.status) || f.status < 200 || f.status > 599)) {
    throw new TypeError('fault.status: expected an integer from 200 to 599.');
  }
  if (f.headers !== undefined && (typeof f.headers !== 'object' || f.headers === null || Object.values(f.headers).some((v) => typeof v !== 'string'))) {
    throw new TypeError('fault.headers: expected an object of strings.');
  }
  if (f.probability !== undefined && (typeof f.probability !== 'number' || !(f.probability >= 0 && f.probability <= 1))) {
    throw new TypeError('fault.probability: expected a number between 0 and 1.');
  }
  return { ...f, remaining: f.times ?? Infinity };
}

/** The body as text, or null past the limit; the rest is still read so the client sees the 413 rather than a reset. */
function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= BODY_LIMIT) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > BODY_LIMIT ? null : chunks.length === 1 ? chunks[0]!.toString() : Buffer.concat(chunks).toString()));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, reply: MockReply): void {
  const payload = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
  res.writeHead(reply.status, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(payload), ...reply.headers });
  res.end(payload);
}

function sendBytes(res: ServerResponse, fault: MockFault): void {
  const size = fault.bodyBytes!;
  res.writeHead(fault.status ?? 200, { 'content-type': 'application/json', 'content-length': size, ...fault.headers });
  const chunk = Buffer.alloc(Math.min(size, 64 * 1024), 'x');
  // A stream, so a multi-megabyte body respects backpressure and stops when the client goes.
  Readable.from(
    (function* () {
      for (let left = size; left > 0; left -= chunk.length) yield left >= chunk.length ? chunk : chunk.subarray(0, left);
    })(),
  ).pipe(res);
}

function logLine(res: ServerResponse, method: string, path: string, route: string | undefined): void {
  const started = performance.now();
  res.on('close', () => {
    const status = res.headersSent ? res.statusCode : 'dropped';
    // The path only: the query may carry an API key, and bodies carry passwords and identityIds.
    console.log(`${method} ${path}${route ? ` (${route})` : ''} -> ${status} ${Math.round(performance.now() - started)}ms`);
  });
}
