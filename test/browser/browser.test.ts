// End to end in headless Chromium (Debian's), against each example app as a
// separate process and a real mock upstream.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { MOCK_CHAT_API_KEY } from '@idgate/mock-upstream';
import { sessionKeys, signSession } from '@idgate/core/adapter';
import { API_KEY, startMockUpstream, upstreamLogin, type MockUpstream } from '../harness.js';
import { startExample, type RunningExample } from './examples.js';

const artifacts = fileURLToPath(new URL('../artifacts/', import.meta.url));
const EXAMPLES = ['express-app', 'koa-app', 'fastify-app', 'hono-app', 'nestjs-app'];
// The examples' cookie secret here, so a test can hold a session the app has never verified.
const SECRET = 'browser-suite-secret-0123456789abcdef';
const notFoundHtml = new Map<string, string>();

function chromiumPath(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('Debian chromium is required for the browser suite: apt-get install -y chromium');
  }
}

let browser: Browser;
let mock: MockUpstream;

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  mock = await startMockUpstream({ port: 0 });
  browser = await chromium.launch({
    executablePath: chromiumPath(),
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync'],
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await mock?.close();
});

describe.each(EXAMPLES)('%s in Chromium', (name) => {
  let app: RunningExample;
  let page: Page;
  let context: BrowserContext;

  beforeAll(async () => {
    // A short cache TTL so an expiry done upstream is seen within the test.
    app = await startExample(name, { IDGATE_UPSTREAM_URL: mock.url, IDGATE_API_KEY: API_KEY, IDGATE_CACHE_TTL_MS: '300', IDGATE_SECRET: SECRET });
  }, 60_000);
  afterAll(async () => {
    await app?.stop();
  });
  beforeEach(async () => {
    mock.reset();
    context = await browser.newContext();
    page = await context.newPage();
  });
  afterEach(async () => {
    await context?.close();
  });

  async function signIn(email = 'demo@example.com', password = 'demo-password') {
    await page.fill('#email', email);
    await page.fill('#password', password);
    // Wait for the navigation the submit starts, not the page that is already loaded.
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('button[type=submit]')]);
  }

  it('signs in through the form; the account page shows the identity; the cookie is HttpOnly', async () => {
    await page.goto(`${app.url}/account`);
    expect(new URL(page.url()).pathname).toBe('/login');
    expect(new URL(page.url()).searchParams.get('returnTo')).toBe('/account');
    await page.screenshot({ path: `${artifacts}${name}-login.png` });
    await signIn();
    expect(new URL(page.url()).pathname).toBe('/account');
    expect(await page.textContent('#name')).toBe('Demo Customer');
    expect(await page.textContent('#email')).toBe('demo@example.com');
    expect(await page.evaluate('document.cookie')).not.toContain('identityId');
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'identityId');
    expect(session?.httpOnly).toBe(true);
    expect(session?.sameSite).toBe('Lax');
    await page.screenshot({ path: `${artifacts}${name}-account.png` });
  });

  it('an expired session lands on the login page with the path kept; signing in returns to it', async () => {
    await page.goto(`${app.url}/login?returnTo=%2Faccount`);
    await signIn();
    expect(new URL(page.url()).pathname).toBe('/account');
    mock.expire({ email: 'demo@example.com' });
    await sleep(350); // the app's cached verification lapses (IDGATE_CACHE_TTL_MS)
    await page.goto(`${app.url}/account?tab=orders`);
    const url = new URL(page.url());
    expect(url.pathname).toBe('/login');
    expect(url.searchParams.get('returnTo')).toBe('/account?tab=orders');
    expect(url.searchParams.get('reason')).toBe('expired');
    expect(await page.isVisible('#expired')).toBe(true);
    await signIn();
    expect(new URL(page.url()).pathname + new URL(page.url()).search).toBe('/account?tab=orders');
    expect(await page.textContent('#name')).toBe('Demo Customer');
  });

  it.each([
    ['demo@example.com', 'wrong-password', 'Wrong e-mail or password.'],
    ['banned@example.com', 'demo-password', 'This account has been suspended.'],
    ['unverified@example.com', 'demo-password', 'Confirm your e-mail address before signing in.'],
  ])('%s with a bad outcome shows the right message and keeps the e-mail', async (email, password, message) => {
    await page.goto(`${app.url}/login`);
    await signIn(email, password);
    expect(new URL(page.url()).pathname).toBe('/login');
    expect((await page.textContent('#error'))?.trim()).toBe(message);
    expect(await page.inputValue('#email')).toBe(email);
    expect(await page.evaluate('document.cookie')).toBe('');
  });

  it('after logout, the back button does not show account data', async () => {
    await page.goto(`${app.url}/login?returnTo=%2Faccount`);
    await signIn();
    expect(await page.textContent('#name')).toBe('Demo Customer');
    await Promise.all([page.waitForURL((u) => u.pathname === '/login', { waitUntil: 'load' }), page.click('#logout')]);
    expect(new URL(page.url()).pathname).toBe('/login');
    expect((await page.textContent('#signed-out'))?.trim()).toBe('You are signed out.');
    await page.screenshot({ path: `${artifacts}${name}-signed-out.png` });
    await page.goBack({ waitUntil: 'load' });
    expect(await page.content()).not.toContain('Demo Customer');
    expect(new URL(page.url()).pathname).toBe('/login');
  });
  // A session cookie for the demo customer that this app has never verified (nothing cached).
  async function coldSession(): Promise<void> {
    const value = await upstreamLogin(mock, 'demo@example.com', 'demo-password', SECRET);
    await context.addCookies([{ name: 'identityId', value, url: app.url, httpOnly: true, sameSite: 'Lax' }]);
  }

  it('upstream down: /account is an HTML 503 page with Retry-After, and the home page says sign-in is unavailable', async () => {
    await coldSession();
    mock.fault({ route: 'profile', status: 503 });
    const res = await page.goto(`${app.url}/account`);
    expect(res?.status()).toBe(503);
    expect(res?.headers()['content-type']).toMatch(/^text\/html/);
    expect(Number(res?.headers()['retry-after'])).toBeGreaterThan(0);
    expect(await page.textContent('h1')).toBe('Sign-in is unavailable');
    await page.screenshot({ path: `${artifacts}${name}-upstream-down.png` });
    // API calls keep core's JSON answer.
    const api = await page.evaluate(async () => { const r = await fetch('/api/me'); return { status: r.status, body: await r.json() }; });
    expect(api).toEqual({ status: 503, body: { error: 'UPSTREAM_UNAVAILABLE' } });
    await page.goto(`${app.url}/`);
    expect(await page.isVisible('#unavailable')).toBe(true);
    expect(await page.content()).not.toContain('You are signed out');
    await page.screenshot({ path: `${artifacts}${name}-home-upstream-down.png` });
  });

  it('an unknown page is the same HTML 404 on every framework', async () => {
    const res = await page.goto(`${app.url}/no-such-page`);
    expect(res?.status()).toBe(404);
    expect(res?.headers()['content-type']).toMatch(/^text\/html/);
    expect(await page.isVisible('#not-found')).toBe(true);
    notFoundHtml.set(name, await res!.text());
    await page.screenshot({ path: `${artifacts}${name}-404.png` });
  });

  it('a cookie that is no session: the login page says so (reason=invalid); expired says expired', async () => {
    const forged = signSession(sessionKeys([SECRET]), 'Z'.repeat(32), Date.now());
    await context.addCookies([{ name: 'identityId', value: forged, url: app.url, httpOnly: true, sameSite: 'Lax' }]);
    await page.goto(`${app.url}/account`);
    expect(new URL(page.url()).searchParams.get('reason')).toBe('invalid');
    expect(await page.textContent('#invalid')).toContain('no longer valid');
    await page.screenshot({ path: `${artifacts}${name}-login-invalid.png` });
    await page.goto(`${app.url}/login?reason=expired&returnTo=%2Faccount`);
    expect(await page.textContent('#expired')).toContain('Your session expired');
    await page.screenshot({ path: `${artifacts}${name}-login-expired.png` });
  });

  it('against a configured (not embedded) upstream, the login page shows no demo credentials', async () => {
    await page.goto(`${app.url}/login`);
    expect(await page.isVisible('#demo-hint')).toBe(false);
    expect(await page.content()).not.toContain('demo-password');
  });
});

it('every framework answers an unknown page with the same HTML', () => {
  expect([...notFoundHtml.keys()].sort()).toEqual([...EXAMPLES].sort());
  expect(new Set(notFoundHtml.values()).size).toBe(1);
});

describe('the embedded mock', () => {
  it('shows the demo credentials on the login page only when the example runs the embedded mock', async () => {
    const app = await startExample('express-app', {});
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${app.url}/login`);
      expect(await page.textContent('#demo-hint')).toContain('demo@example.com');
      await page.screenshot({ path: `${artifacts}express-app-login-demo-hint.png` });
      await context.close();
    } finally {
      await app.stop();
    }
  }, 60_000);
});

describe('chat-proxy in Chromium', () => {
  let app: RunningExample;
  beforeAll(async () => {
    app = await startExample('chat-proxy', { IDGATE_UPSTREAM_URL: mock.url, IDGATE_API_KEY: API_KEY, IDGATE_CHAT_URL: mock.url, IDGATE_CHAT_API_KEY: MOCK_CHAT_API_KEY, IDGATE_SECRET: SECRET });
  }, 60_000);
  afterAll(async () => {
    await app?.stop();
  });

  it('a past conversation loads its messages when clicked', async () => {
    mock.reset();
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${app.url}/login`);
      await page.fill('#email', 'demo@example.com');
      await page.fill('#password', 'demo-password');
      await Promise.all([page.waitForURL((u) => u.pathname === '/chat', { waitUntil: 'load' }), page.click('button[type=submit]')]);
      const ask = async (message: string, conversations: number) => {
        await page.fill('#message', message);
        await page.click('#send button[type=submit]');
        await page.waitForFunction(`document.querySelectorAll('#history a').length === ${conversations}`);
      };
      await ask('first question about apples', 1);
      await page.click('#new');
      await ask('second question about pears', 2);
      expect(await page.textContent('#log')).not.toContain('apples');
      const first = page.locator('#history a').filter({ hasText: 'apples' });
      await first.click();
      await page.waitForFunction(`document.getElementById('log').textContent.includes('apples')`);
      const log = await page.textContent('#log');
      expect(log).toContain('first question about apples');
      expect(log).not.toContain('pears');
      expect(await page.locator('.turn.agent').count()).toBeGreaterThan(0);
      expect((await page.locator('.turn.agent').first().textContent())?.length).toBeGreaterThan(0);
      await page.screenshot({ path: `${artifacts}chat-proxy-history.png` });
      // Signing out forgets the transcripts this tab kept.
      await Promise.all([page.waitForURL((u) => u.pathname === '/login', { waitUntil: 'load' }), page.click('#logout')]);
      expect(await page.evaluate(`Object.keys(sessionStorage).filter((k) => k.startsWith('idgate-chat:'))`)).toEqual([]);
      expect(await page.isVisible('#signed-out')).toBe(true);
    } finally {
      await context.close();
    }
  });
});
