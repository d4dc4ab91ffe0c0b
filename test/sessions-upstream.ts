// A second opaque-session upstream, unlike BizKitHub in every particular:
// REST paths, no API key, 43-character base64url tokens in the path, status
// codes instead of error words. It exists so idgate's provider interface is
// tested against something it was not written for.
//   POST   /sessions         {email, password} -> 201 {token} | 401 | 400
//   GET    /sessions/:token  -> 200 {user} | 404 unknown | 410 expired
//   DELETE /sessions/:token  -> 204 | 404
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A user of the sessions upstream. */
export interface SessionsUser {
  id: string;
  email: string;
  name: string;
  password: string;
  plan: string;
}

/** A running sessions upstream with its controls and what it saw. */
export interface SessionsUpstream {
  url: string;
  /** Requests per route since the last reset. */
  calls: { create: number; get: number; delete: number };
  /** Tokens it was asked about (GET), and tokens it was told to end (DELETE), in order. */
  asked: string[];
  deleted: string[];
  /** 'down': every request answers 503 with Retry-After: 7. */
  mode: 'up' | 'down';
  /** Issue a session without going through idgate (as another client of the upstream would). */
  issue(email?: string): string;
  /** The session ran out upstream: GET answers 410 from now on. */
  expire(token: string): void;
  reset(): void;
  close(): Promise<void>;
}

/** The demo user. */
export const ANN: SessionsUser = { id: 'u-100', email: 'ann@example.com', name: 'Ann', password: 'ann-password', plan: 'enterprise' };

async function json(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 16_384) return {};
    chunks.push(chunk as Buffer);
  }
  try {
    const value: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Start the sessions upstream on 127.0.0.1 and an ephemeral port. */
export async function startSessionsUpstream(users: SessionsUser[] = [ANN]): Promise<SessionsUpstream> {
  const sessions = new Map<string, { user: SessionsUser; expired: boolean }>();
  const byEmail = new Map(users.map((u) => [u.email, u]));
  const issue = (email = ANN.email) => {
    const token = randomBytes(32).toString('base64url'); // 43 characters
    sessions.set(token, { user: byEmail.get(email)!, expired: false });
    return token;
  };
  const server = createServer(async (req, res) => {
    const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, body === undefined ? headers : { 'content-type': 'application/json', ...headers });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    const path = (req.url ?? '/').split('?')[0]!;
    const token = path.startsWith('/sessions/') ? decodeURIComponent(path.slice('/sessions/'.length)) : undefined;
    if (req.method === 'POST' && path === '/sessions') up.calls.create++;
    else if (req.method === 'GET' && token !== undefined) (up.calls.get++, up.asked.push(token));
    else if (req.method === 'DELETE' && token !== undefined) (up.calls.delete++, up.deleted.push(token));
    if (up.mode === 'down') return send(503, { error: 'maintenance' }, { 'retry-after': '7' });
    if (req.method === 'POST' && path === '/sessions') {
      const { email, password } = await json(req);
      if (typeof email !== 'string' || typeof password !== 'string') return send(400, { error: 'email and password required' });
      const user = byEmail.get(email);
      if (!user || user.password !== password) return send(401, { error: 'bad credentials' });
      return send(201, { token: issue(email) });
    }
    if (token !== undefined && req.method === 'GET') {
      const session = sessions.get(token);
      if (!session) return send(404, { error: 'no such session' });
      if (session.expired) return send(410, { error: 'session expired' });
      const { password: _p, ...user } = session.user;
      return send(200, { user });
    }
    if (token !== undefined && req.method === 'DELETE') return send(sessions.delete(token) ? 204 : 404);
    return send(404, { error: 'not found' });
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  const up: SessionsUpstream = {
    url: `http://127.0.0.1:${port}`,
    calls: { create: 0, get: 0, delete: 0 },
    asked: [],
    deleted: [],
    mode: 'up',
    issue,
    expire(token) {
      const session = sessions.get(token);
      if (session) session.expired = true;
    },
    reset() {
      up.calls = { create: 0, get: 0, delete: 0 };
      up.asked = [];
      up.deleted = [];
      up.mode = 'up';
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return up;
}
