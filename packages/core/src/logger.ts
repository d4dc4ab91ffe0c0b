/** The subset of a pino logger idgate writes to; pino, console-like wrappers and test spies all fit. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = () => {};
/** A logger that drops everything; the default. */
export const silentLogger: Logger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });

const SECRET_KEYS = new Set(['identityid', 'apikey', 'appsecret', 'password', 'cookie', 'set-cookie', 'authorization', 'secret']);

/**
 * Copy of `value` with every secret-bearing field (identityId, apiKey,
 * appSecret, password, cookie headers, authorization) replaced by
 * `[redacted]`, at any depth. Used on everything idgate logs.
 * @example redact({ email, password }) // { email, password: '[redacted]' }
 */
export function redact(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object' || depth > 6) return value;
  if (value instanceof Error) {
    const err = value as Error & { code?: unknown };
    return { name: err.name, code: err.code, message: err.message };
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEYS.has(k.toLowerCase()) ? '[redacted]' : redact(v, depth + 1);
  }
  return out;
}
