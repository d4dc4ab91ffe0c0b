import { describe, expect, it } from 'vitest';
import { createIdgate } from './gate.js';
import { ConfigError } from './errors.js';
import { mountedFirst, requestTags, requiredRule } from './kit.js';
import { ANONYMOUS } from './verifier.js';
import type { IdentityRequest } from './request.js';

const gate = createIdgate({ upstreamUrl: 'http://127.0.0.1:1', apiKey: 'DEV_' + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4', secret: 'kit-test-secret-0123456789abcdef', protect: ['/members/*'] });
const api = (url: string): IdentityRequest => ({ method: 'GET', url, headers: { accept: 'application/json' }, ip: '127.0.0.1', protocol: 'http' });

describe('decide(state, req, rule): the rule says what it means', () => {
  it('no rule: the protect option alone decides', () => {
    expect(gate.decide(ANONYMOUS, api('/public')).kind).toBe('next');
    expect(gate.decide(ANONYMOUS, api('/members/x'))).toMatchObject({ kind: 'reject', statusCode: 401 });
  });
  it('{ required: false } does not require (the old trap: `{}` meant required), and cannot lift protect', () => {
    expect(gate.decide(ANONYMOUS, api('/public'), { required: false }).kind).toBe('next');
    expect(gate.decide(ANONYMOUS, api('/members/x'), { required: false })).toMatchObject({ kind: 'reject', statusCode: 401 });
  });
  it('{ required: true } requires; requiredRule(options) is that plus where', () => {
    expect(gate.decide(ANONYMOUS, api('/public'), { required: true })).toMatchObject({ kind: 'reject', statusCode: 401 });
    const where = () => false;
    expect(requiredRule({ where })).toEqual({ required: true, where });
    expect(requiredRule()).toEqual({ required: true, where: undefined });
  });
});

describe('the mounted-first guard', () => {
  it('requestTags: a request the middleware never saw throws one ConfigError naming the handler and the mount', () => {
    const tags = requestTags<object, { n: number }>('idgate.test.kit', 'app.use(identityMiddleware()) mounted');
    const req = {};
    expect(() => tags.get(req, 'loginHandler()')).toThrow(ConfigError);
    expect(() => tags.get(req, 'loginHandler()')).toThrow('idgate: loginHandler() needs app.use(identityMiddleware()) mounted before it');
    tags.set(req, { n: 1 });
    expect(tags.get(req, 'loginHandler()')).toEqual({ n: 1 });
    // One map per key, shared by every copy of the module (ESM and CJS builds).
    expect(requestTags<object, { n: number }>('idgate.test.kit', 'x').get(req, 'y')).toEqual({ n: 1 });
  });
  it('mountedFirst has the stable CONFIG_INVALID code', () => {
    expect(mountedFirst('chatProxy()', 'x')).toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
