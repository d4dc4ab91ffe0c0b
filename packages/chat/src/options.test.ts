import { describe, expect, it } from 'vitest';
import { ConfigError } from '@idgate/core';
import { createChatForwarder } from './index.js';
import { resolveChatConfig, type ChatForwarderOptions } from './options.js';

const KEY = 'oc_optionsTestKey_0123456789';
const base: ChatForwarderOptions = { baseUrl: 'https://chat.example/', apiKey: KEY, agentId: 123 };

const failure = (options: unknown): string => {
  try {
    createChatForwarder(options as ChatForwarderOptions);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('options', () => {
  it('defaults: no contact sync, ownership checks on, a day-long contact ttl when enabled, agentId as the chatbot', () => {
    const c = resolveChatConfig(base);
    expect(c).toMatchObject({ baseUrl: 'https://chat.example', agentId: '123', contact: undefined, verifyConversations: true, maxMessageBytes: 16_384 });
    expect(c.http).toEqual({ timeout: 60_000, totalTimeout: 90_000, retries: 2, backoffBase: 200, backoffMax: 2_000, retryAfterMax: 5_000, maxBodyBytes: 1_048_576 });
    expect(resolveChatConfig({ ...base, contact: {} }).contact).toMatchObject({ chatbotId: '123', ttl: 86_400_000, max: 10_000 });
    expect(resolveChatConfig({ ...base, contact: { chatbotId: 9 } }).contact?.chatbotId).toBe('9');
    expect(resolveChatConfig({ ...base, contact: { enabled: false } }).contact).toBeUndefined();
  });
  it.each([
    [{ ...base, baseUrl: undefined }, /option `baseUrl` is required/],
    [{ ...base, baseUrl: 'ftp://chat.example' }, /option `baseUrl` expected an http\(s\) URL/],
    [{ ...base, baseUrl: 'https://chat.example/?x=1' }, /`baseUrl` expected no query string/],
    [{ ...base, apiKey: undefined }, /option `apiKey` is required/],
    [{ ...base, agentId: '..' }, /option `agentId` expected 1 to 128/],
    [{ ...base, agentId: 'a/b' }, /option `agentId`/],
    [{ ...base, agentId: -1 }, /option `agentId`/],
    [{ ...base, userId: 'id' }, /option `userId` expected a function/],
    [{ ...base, contact: { chatbotId: '../x' } }, /option `contact.chatbotId`/],
    [{ ...base, contact: { plan: 'pro' } }, /unknown option in `contact`: plan/],
    [{ ...base, secret: 'short' }, /option `secret` expected at least 16 characters/],
    [{ ...base, store: {} }, /option `store` expected \{ get/],
    [{ ...base, http: { timeout: 0 } }, /option `http.timeout`/],
    [{ ...base, streaming: true }, /unknown option: streaming/],
    [null, /expected an options object/],
  ])('%# refuses a bad option with a message naming it', (options, message) => {
    expect(failure(options)).toMatch(message);
  });
  it('never echoes the API key, whatever is wrong with it', () => {
    for (const apiKey of ['oc_has a space_secretvalue', 'oc_\u0000control_secretvalue', 'x'.repeat(600)]) {
      const message = failure({ ...base, apiKey });
      expect(message).toMatch(/option `apiKey` expected 8 to 512 printable characters/);
      expect(message).not.toContain('secretvalue');
      expect(message).not.toContain('xxxxxxxx');
    }
    expect(failure({ ...base, apiKey: 42 })).toMatch(/option `apiKey`/);
  });
});
