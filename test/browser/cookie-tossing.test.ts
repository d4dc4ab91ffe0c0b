// issue 12, finding 2, in a real browser: a sibling host tosses a cookie that
// smuggles `__Host-identityId` inside its value. Debian's Chromium, HTTPS on
// loopback with a self-signed certificate made here, `shop.test` and
// `evil.shop.test` mapped to 127.0.0.1. The victim must stay the victim.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { chromium, type Browser } from 'playwright-core';
import { identityMiddleware, loginHandler, requireIdentity } from '@idgate/express';
import { API_KEY, startMockUpstream, type MockUpstream } from '../harness.js';

const artifacts = fileURLToPath(new URL('../artifacts/', import.meta.url));
const NAME = '__Host-identityId';
const VICTIM = { email: 'demo@example.com', password: 'demo-password' };
const ATTACKER = { email: 'attacker@example.com', password: 'attacker-password' };

let dir: string;
let mock: MockUpstream;
let shop: Server;
let evil: Server;
let browser: Browser;
let shopUrl: string;
let evilUrl: string;
/** The `Cookie` header of each request to /account, as the app received it. */
const seen: string[] = [];
/** What the sibling host answers with, set by each test. */
let tossed: string[] = [];

const listen = async (server: Server) => {
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return (server.address() as AddressInfo).port;
};

/** A real session of `who`: sign in through the app (not the upstream) and take the Set-Cookie value. */
function appSession(port: number, who: { email: string; password: string }): Promise<string> {
  const body = JSON.stringify(who);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port, servername: 'shop.test', rejectUnauthorized: false, method: 'POST', path: '/login', headers: { host: `shop.test:${port}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        const cookie = (res.headers['set-cookie'] ?? []).find((c) => c.startsWith(`${NAME}=`));
        if (res.statusCode !== 200 || !cookie) return reject(new Error(`login failed: ${res.statusCode}`));
        resolve(cookie.slice(NAME.length + 1, cookie.indexOf(';')));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  dir = mkdtempSync(join(tmpdir(), 'idgate-tls-'));
  execFileSync('/usr/bin/openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=shop.test', '-addext', 'subjectAltName=DNS:shop.test',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ], { stdio: 'ignore' });
  mock = await startMockUpstream({ port: 0, customers: [{ ...ATTACKER, id: 'c_attacker', name: 'Attacker' }] });

  const app = express();
  app.use('/account', (req, _res, next) => (seen.push(req.headers.cookie ?? ''), next()));
  app.use(identityMiddleware({ upstreamUrl: mock.url, apiKey: API_KEY, cookie: { hostPrefix: true } }));
  app.get('/login', (_req, res) => res.type('html').send(
    '<form method="post" action="/login"><input id="email" name="email"><input id="password" name="password" type="password">' +
      '<input type="hidden" name="returnTo" value="/account"><button type="submit">Sign in</button></form>',
  ));
  app.post('/login', loginHandler());
  app.get('/account', requireIdentity(), (req, res) => res.type('html').send(`<p id="email">${req.identity!.email}</p>`));
  shop = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, app);
  const shopPort = await listen(shop);
  shopUrl = `https://shop.test:${shopPort}`;

  // The sibling: plain http, its own host name, any cookie it likes for the parent domain.
  evil = createHttpServer((_req, res) => {
    res.setHeader('set-cookie', tossed);
    res.setHeader('content-type', 'text/html');
    res.end('<p>evil.shop.test</p>');
  });
  evilUrl = `http://evil.shop.test:${await listen(evil)}`;

  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync',
      '--host-resolver-rules=MAP shop.test 127.0.0.1, MAP evil.shop.test 127.0.0.1',
      '--ignore-certificate-errors',
    ],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  shop?.closeAllConnections();
  evil?.closeAllConnections();
  await Promise.all([shop, evil].map((s) => s && new Promise((r) => s.close(r))));
  await mock?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a sibling host smuggles __Host-identityId inside its own cookie (Chromium)', () => {
  it('the victim on https://shop.test stays the victim after evil.shop.test sets `pref=dark __Host-identityId=<A>; Domain=shop.test`', async () => {
    const attacker = await appSession(Number(new URL(shopUrl).port), ATTACKER);
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    try {
      const page = await context.newPage();
      await page.goto(`${shopUrl}/login`);
      await page.fill('#email', VICTIM.email);
      await page.fill('#password', VICTIM.password);
      await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('button[type=submit]')]);
      expect(await page.textContent('#email')).toBe(VICTIM.email);
      expect((await context.cookies(shopUrl)).find((c) => c.name === NAME)).toMatchObject({ secure: true, httpOnly: true, path: '/' });

      // Path=/account sorts the tossed cookie before the session (longer path first), as an attacker would.
      tossed = [`pref=dark ${NAME}=${attacker}; Domain=shop.test; Path=/account`];
      await page.goto(`${evilUrl}/`);
      expect((await context.cookies(shopUrl + '/account')).find((c) => c.name === 'pref')).toMatchObject({ domain: '.shop.test', value: `dark ${NAME}=${attacker}` });

      seen.length = 0;
      await page.goto(`${shopUrl}/account`);
      // The browser really sent the smuggled pair first...
      expect(seen[0]).toMatch(new RegExp(`^pref=dark ${NAME}=${attacker}; ${NAME}=[^;]+$`));
      // ...and the app still answers as the victim.
      expect(await page.textContent('#email')).toBe(VICTIM.email);
      await page.screenshot({ path: `${artifacts}cookie-tossing-victim.png` });
    } finally {
      await context.close();
    }
  });

  it('Chromium itself refuses a nameless cookie whose value is `__Host-identityId=<A>` (no server could tell it apart) and a __Host- cookie from the sibling', async () => {
    const attacker = await appSession(Number(new URL(shopUrl).port), ATTACKER);
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    try {
      const page = await context.newPage();
      tossed = [`=${NAME}=${attacker}; Domain=shop.test; Path=/account`, `${NAME}=${attacker}; Domain=shop.test; Path=/account`];
      await page.goto(`${evilUrl}/`);
      expect(await context.cookies(shopUrl + '/account')).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
