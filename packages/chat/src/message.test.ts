import { describe, expect, it } from 'vitest';
import { ChatError } from './errors.js';
import { parseChatInput } from './message.js';

const parse = (body: unknown, max = 100) => parseChatInput(body as Record<string, unknown>, max);
const refusal = (body: unknown, max = 100) => {
  try {
    parse(body, max);
  } catch (err) {
    expect(err).toBeInstanceOf(ChatError);
    const e = err as ChatError;
    return { code: e.code, status: e.status, message: e.message };
  }
  throw new Error('expected a ChatError');
};

describe('parseChatInput', () => {
  it('keeps message, conversationId and stream, drops everything else', () => {
    const body = JSON.parse('{"message":"hi","userId":"x","__proto__":{"userId":"y"},"constructor":{"prototype":{"a":1}},"extra":[1],"conversationId":42,"stream":true}');
    const out = parse(body);
    expect(out).toEqual({ message: 'hi', conversationId: 42, stream: true });
    expect(Object.keys(out)).toEqual(['message', 'conversationId', 'stream']);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });
  it('stream defaults to false (Bookbag would default to true); a null conversationId is none', () => {
    expect(parse({ message: 'hi', conversationId: null })).toEqual({ message: 'hi', conversationId: undefined, stream: false });
    expect(parse({ message: 'hi', conversationId: 'abc_DEF-1' }).conversationId).toBe('abc_DEF-1');
  });
  it.each([
    [{}, '`message` is required.'],
    [{ message: '' }, '`message` expected a non-empty string.'],
    [{ message: ' \n ' }, '`message` expected a non-empty string.'],
    [{ message: 1 }, '`message` expected a string.'],
    [{ message: 'hi', conversationId: 0 }, /^`conversationId` expected a positive integer/],
    [{ message: 'hi', conversationId: 1.5 }, /^`conversationId` expected a positive integer/],
    [{ message: 'hi', conversationId: '../x' }, /^`conversationId` expected a positive integer/],
    [{ message: 'hi', conversationId: {} }, /^`conversationId` expected a positive integer/],
    [{ message: 'hi', stream: 'true' }, '`stream` expected true or false.'],
  ])('%j is a 400 CHAT_BAD_REQUEST naming the field', (body, message) => {
    const r = refusal(body);
    expect(r).toMatchObject({ code: 'CHAT_BAD_REQUEST', status: 400 });
    expect(r.message).toMatch(message);
  });
  it('caps the message in UTF-8 bytes: 413 CHAT_MESSAGE_TOO_LARGE', () => {
    expect(parse({ message: 'é'.repeat(50) }).message).toHaveLength(50);
    expect(refusal({ message: 'é'.repeat(51) })).toEqual({ code: 'CHAT_MESSAGE_TOO_LARGE', status: 413, message: '`message` is larger than 100 bytes.' });
  });
});
