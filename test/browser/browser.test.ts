// End to end in headless Chromium (Debian's), against each example app as a
// separate process and a real mock upstream.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { API_KEY, startMockUpstream, type MockUpstream } from '../harness.js';
import { startExample, type RunningExample } from './examples.js';

const artifacts = fileURLToPath(new URL('../artifacts/', import.meta.url));
const EXAMPLES = ['express-app', 'koa-app', 'fastify-app', 'hono-app'];

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
    app = await startExample(name, { IDGATE_UPSTREAM_URL: mock.url, IDGATE_API_KEY: API_KEY, IDGATE_CACHE_TTL_MS: '300' });
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
    await Promise.all([page.waitForURL((u) => u.pathname === '/', { waitUntil: 'load' }), page.click('#logout')]);
    expect(new URL(page.url()).pathname).toBe('/');
    await page.goBack({ waitUntil: 'load' });
    expect(await page.content()).not.toContain('Demo Customer');
    expect(new URL(page.url()).pathname).toBe('/login');
  });
});
