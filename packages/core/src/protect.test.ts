import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compileProtect, requestPathViews } from './protect.js';
import type { IdgateConfig } from './config.js';

const compile = (protect: IdgateConfig['protect'], loginUrl = '/login') => compileProtect({ protect, loginUrl });
const strings = compile(['/members/*', '/account']);

describe('compileProtect', () => {
  it.each([
    // issue 12's reproductions, and their relatives
    '/members/area', '/MEMBERS/area', '/Members/Area', '/ACCOUNT', '/account/', '/account//', '/%6Dembers/area', '/%61ccount', '/%2561ccount',
    'http://127.0.0.1:8080/account', 'HTTP://evil.example/members/x', 'http:\\\\h\\account', 'https://u@h/account?x',
    '/members', '/members/', '/x/../account', '/x/%2e%2e/account', '/account;jsessionid=1', '/members;x/area', '//account', '/members\\area#',
    '/account\u00a0', '/account%09', '/ACCOUNT?returnTo=/login', '/%4D%45%4D%42%45%52%53/x', '/members%2Farea',
  ])('protects %j', (target) => {
    expect(strings.target(target)).toBe(true);
  });

  it.each(['/public', '/login', '/login/', '/LOGIN', '/login?returnTo=%2Faccount', '/accounts', '/membersx', '/', '/public/account', '/members.json', '/account-settings', 'http://h', 'http://h/public?x=/account'])(
    'leaves %j public',
    (target) => {
      expect(strings.target(target)).toBe(false);
    },
  );

  it.each(['*', '127.0.0.1:80', 'http:/account', 'http://a%2fb/public', 'http://a;b/public', 'foo'])('a target that is not a plain path (%j) is protected: fail closed', (target) => {
    expect(strings.target(target)).toBe(true);
    expect(compile([]).target(target)).toBe(false); // nothing protected, nothing to fail closed on
  });

  it('a target that will not stop decoding, or an odd path past 2 kB, is protected', () => {
    expect(strings.target('/public%2525252525252525')).toBe(true);
    expect(strings.target('/public/' + 'x'.repeat(5_000))).toBe(false); // plain: fast path, any length
    expect(strings.target('/public/' + 'X'.repeat(5_000))).toBe(true);
  });

  it('Kelvin sign and other case folds that reach ASCII are matched', () => {
    const kyc = compile(['/kyc']);
    expect(kyc.target('/%E2%84%AAyc')).toBe(true); // U+212A KELVIN SIGN lowercases to k (Fastify's caseSensitive: false)
    expect(kyc.target('/KYC/')).toBe(true);
  });

  it('the login URL is never protected when every view is the login path; other paths cannot hide behind it', () => {
    const all = compile(['/*'], '/signin?next=1');
    for (const t of ['/signin', '/signin/', '/SignIn', '/signin?x=1', 'http://h/signin']) expect(all.target(t)).toBe(false);
    for (const t of ['/signin/../account', '/signin;/../x', '/signin%2F..%2Faccount', '/public', '/signin/x']) expect(all.target(t)).toBe(true);
  });

  it('RegExp patterns and a function see every view, case-folded and without trailing slashes', () => {
    const re = compile([/^\/admin$/]);
    expect(re.target('/admin')).toBe(true);
    expect(re.target('/ADMIN/')).toBe(true);
    expect(re.target('/%61dmin')).toBe(true);
    expect(re.target('/admins')).toBe(false);
    const seen: string[] = [];
    const fn = compile((p) => (seen.push(p), p === '/admin'));
    expect(fn.target('/Admin/')).toBe(true);
    expect(seen).toContain('/Admin/');
  });

  it('a plain path is matched once: one call of a protect function, with the path as sent', () => {
    const seen: string[] = [];
    const fn = compile((p) => (seen.push(p), false));
    fn.target('/members/area?tab=2');
    expect(seen).toEqual(['/members/area']);
  });

  it('the fast path answers as the slow path does (a fragment forces the slow one)', () => {
    const protectArb = fc.array(fc.stringMatching(/^\/[a-z0-9._-]{0,6}(\/[a-z0-9._-]{1,6}){0,2}(\/\*)?$/), { minLength: 1, maxLength: 4 });
    const plainArb = fc.stringMatching(/^(\/[a-z0-9_-][a-z0-9._-]{0,5}){0,3}\/?$/).map((p) => p || '/');
    fc.assert(
      fc.property(protectArb, plainArb, fc.constantFrom('/login', '/a', '/a/b'), (protect, path, loginUrl) => {
        const matcher = compile(protect, loginUrl);
        expect(matcher.target(path)).toBe(matcher.target(path + '#'));
        expect(matcher.target(path + '?q=1')).toBe(matcher.target(path + '#?q=1'));
      }),
      { numRuns: 2_000 },
    );
  });

  it('route patterns: a route under a protected path is guarded itself; catch-alls and the login route are not', () => {
    expect(strings.route('/members/:id')).toBe(true);
    expect(strings.route('/account')).toBe(true);
    expect(strings.route('/*')).toBe(false);
    expect(strings.route('*')).toBe(false);
    expect(strings.route('/login')).toBe(false);
    expect(compile((p) => { throw new Error(p); }).route('/x')).toBe(false); // the request-time check surfaces it
  });
});

describe('requestPathViews', () => {
  it('includes the raw path, the decoded ones and the normalised ones', () => {
    const views = requestPathViews('/a/%2e%2e//Account;x?q')!;
    expect(views).toContain('/a/%2e%2e//Account;x');
    expect(views).toContain('/a/..//Account;x');
    expect(views).toContain('/Account');
  });
  it('reads absolute-form targets as their path', () => {
    expect(requestPathViews('http://127.0.0.1:3000/account?x')).toEqual(new Set(['/account']));
    expect(requestPathViews('https://h')).toEqual(new Set(['/']));
  });
});
