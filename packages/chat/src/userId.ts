import { createHash, createHmac } from 'node:crypto';

/**
 * Bookbag's `userId` rule (its identity documentation: `^[a-zA-Z0-9._-]{1,128}$`).
 * @example USER_ID_PATTERN.test('user_8821') // true
 */
export const USER_ID_PATTERN = /^[a-zA-Z0-9._-]{1,128}$/;

/**
 * The `userId` the chat upstream sees for an id taken from the verified
 * identity: the id itself when it fits Bookbag's pattern, else `u_` and 32
 * characters of a SHA-256 (an HMAC when `secret` is given) of it, stable
 * across restarts and instances and not reversible. All-dot ids (`.`, `..`)
 * are hashed too: in a URL path they would be read as `./` and `../`.
 * @example chatUserId('c_demo') // 'c_demo'
 * @example chatUserId('ada@example.com') // 'u_…' (the @ is not allowed)
 */
export function chatUserId(id: string, secret?: string): string {
  if (USER_ID_PATTERN.test(id) && !/^\.+$/.test(id)) return id;
  const digest = secret
    ? createHmac('sha256', secret).update(id).digest('base64url')
    : createHash('sha256').update(`idgate-chat-user:${id}`).digest('base64url');
  return `u_${digest.slice(0, 32)}`;
}
