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

/** How deep `redact` copies; anything deeper becomes `'[depth]'`. */
export const REDACT_MAX_DEPTH = 32;

/**
 * Copy of `value` with every secret-bearing field (identityId, apiKey,
 * appSecret, password, cookie headers, authorization) replaced by
 * `[redacted]`, at any depth: objects nested deeper than `REDACT_MAX_DEPTH`
 * are replaced whole by `'[depth]'` and a reference back to an enclosing
 * object by `'[circular]'`, so nothing below the limit is ever passed
 * through unread. Used on everything idgate logs.
 * @example redact({ email, password }) // { email, password: '[redacted]' }
 */
export function redact(value: unknown): unknown {
  return copy(value, 0, new Set());
}

function copy(value: unknown, depth: number, ancestors: Set<object>): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (ancestors.has(value)) return '[circular]';
  if (depth >= REDACT_MAX_DEPTH) return '[depth]';
  if (value instanceof Error) {
    const err = value as Error & { code?: unknown };
    return { name: err.name, code: err.code, message: err.message };
  }
  ancestors.add(value);
  let out: unknown;
  if (Array.isArray(value)) {
    out = value.map((v) => copy(v, depth + 1, ancestors));
  } else {
    const obj: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      obj[k] = SECRET_KEYS.has(k.toLowerCase()) ? '[redacted]' : copy(v, depth + 1, ancestors);
    }
    out = obj;
  }
  ancestors.delete(value);
  return out;
}
