import { Buffer } from 'node:buffer';
import { createHash, createHmac, hkdfSync, timingSafeEqual, createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { isIdentityId } from './normalize.js';

/**
 * idgate's own session cookie value: `<token>.<issuedAt>.<tag>`, where the
 * token is the provider's (BizKitHub: the 32-character identityId; it never
 * holds a `.`),
 * issuedAt is the session's start in epoch seconds (base 36) and tag a MAC
 * (HMAC-SHA256, 128 bits, base64url) over both under the first `secret`.
 * The absolute lifetime travels in the cookie, so no instance, eviction or
 * restart can extend it, and a value idgate did not issue is refused before
 * any I/O.
 */
export interface SessionToken {
  /** The provider's session token (BizKitHub: the upstream identityId). */
  readonly id: string;
  /** Epoch ms the session started (login); the absolute lifetime counts from here. */
  readonly issuedAt: number;
  /** False for a legacy, unsigned cookie accepted during a migration window. */
  readonly signed: boolean;
}

/** The keys derived from the configured secrets: the first signs, any verifies. */
export interface SessionKeys {
  /** MAC keys, newest first. */
  readonly mac: readonly Buffer[];
  /** Store encryption keys with their ids, newest first. */
  readonly seal: readonly { readonly kid: string; readonly key: Buffer }[];
}

const TAG_CHARS = 22; // 128 bits in base64url, unpadded

function derive(secret: string, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'idgate', info, 32));
}

/**
 * Derive the cookie MAC keys and the store encryption keys from the secrets
 * (newest first), once at start-up. Separate keys per purpose (HKDF), so a
 * MAC never doubles as an encryption key.
 * @example const keys = sessionKeys(['new secret ...', 'old secret ...']);
 */
export function sessionKeys(secrets: readonly string[]): SessionKeys {
  return Object.freeze({
    mac: secrets.map((s) => derive(s, 'idgate cookie mac v1')),
    seal: secrets.map((s) => {
      const key = derive(s, 'idgate store aes-256-gcm v1');
      return Object.freeze({ kid: createHash('sha256').update(key).digest('base64url').slice(0, 8), key });
    }),
  });
}

function tagOf(key: Buffer, payload: string): string {
  return createHmac('sha256', key).update(payload).digest('base64url').slice(0, TAG_CHARS);
}

/**
 * The signed cookie value for a provider's session token (BizKitHub: the
 * upstream identityId) issued at `issuedAt` (ms). The token must not hold a `.`.
 * @example signSession(keys, identityId, Date.now()) // 'Ab3…9.sk2x1c.q0…'
 */
export function signSession(keys: SessionKeys, id: string, issuedAt: number): string {
  const payload = `${id}.${Math.floor(issuedAt / 1000).toString(36)}`;
  return `${payload}.${tagOf(keys.mac[0]!, payload)}`;
}

/**
 * Read a cookie value: a `SessionToken` when idgate issued it (its tag
 * verifies under one of the secrets), else undefined. `legacy` accepts a bare
 * token (a cookie set before signing), for a migration window. `isToken` is
 * the provider's token grammar (default: BizKitHub's identityId); a token it
 * refuses is refused here, before any MAC or I/O.
 * Runs on a cache miss only; a hit never gets here.
 */
export function openSession(keys: SessionKeys, value: string, legacy: boolean, isToken: (value: string) => boolean = isIdentityId): SessionToken | undefined {
  const first = value.indexOf('.');
  if (first === -1) return legacy && isToken(value) ? { id: value, issuedAt: Number.NaN, signed: false } : undefined;
  // token + '.' + 1..9 base36 digits + '.' + 22
  const dot = value.length - TAG_CHARS - 1;
  const digits = dot - first - 1;
  if (digits < 1 || digits > 9 || value.charCodeAt(dot) !== 0x2e) return undefined;
  const stamp = value.slice(first + 1, dot);
  if (!/^[0-9a-z]{1,9}$/.test(stamp)) return undefined;
  const id = value.slice(0, first);
  if (!isToken(id)) return undefined;
  const payload = value.slice(0, dot);
  const given = Buffer.from(value.slice(dot + 1), 'latin1');
  for (const key of keys.mac) {
    if (timingSafeEqual(Buffer.from(tagOf(key, payload), 'latin1'), given)) {
      return { id, issuedAt: parseInt(stamp, 36) * 1000, signed: true };
    }
  }
  return undefined;
}

/**
 * Encrypt a value for the shared store (AES-256-GCM under the newest key; the
 * store key is the additional data, so a blob cannot be replayed under
 * another session's key). Format: `v1.<kid>.<iv>.<ciphertext+tag>`.
 * @example await store.set(key, sealValue(keys, key, JSON.stringify(profile)), ttl);
 */
export function sealValue(keys: SessionKeys, aad: string, plaintext: string): string {
  const { kid, key } = keys.seal[0]!;
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `v1.${kid}.${iv.toString('base64url')}.${body.toString('base64url')}`;
}

/** Decrypt what `sealValue` wrote, under whichever configured key wrote it; undefined when it cannot be read. */
export function openValue(keys: SessionKeys, aad: string, sealed: string): string | undefined {
  const parts = sealed.split('.');
  if (parts.length !== 4 || parts[0] !== 'v1') return undefined;
  const found = keys.seal.find((k) => k.kid === parts[1]);
  if (!found) return undefined;
  try {
    const iv = Buffer.from(parts[2]!, 'base64url');
    const body = Buffer.from(parts[3]!, 'base64url');
    if (iv.length !== 12 || body.length < 16) return undefined;
    const decipher = createDecipheriv('aes-256-gcm', found.key, iv);
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(body.subarray(body.length - 16));
    return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}
