const MAX_LENGTH = 2048;
// Printable ASCII except backslash. Anything else (controls, spaces, unicode
// look-alikes of '/' such as U+FF0F or U+2215) is refused, not repaired.
const SAFE_CHARS = /^[\x21-\x5b\x5d-\x7e]*$/;

function unsafe(path: string): boolean {
  return (
    path.charCodeAt(0) !== 0x2f || // must start with '/'
    path.charCodeAt(1) === 0x2f || // '//host' is protocol-relative
    !SAFE_CHARS.test(path)
  );
}

// What a decoded form must not reveal: a second leading slash or backslash,
// or control characters (header splitting). Spaces and unicode are fine once encoded.
const DECODED_DANGER = /^\/[\/\\]|[\x00-\x1f\x7f]/;

/**
 * Keep `value` only if it is a same-origin relative path; otherwise return
 * `fallback`. `//evil`, `/\evil`, `https:evil`, percent-encoded variants
 * (`/%2F%2Fevil`, `/%5Cevil`), control characters and non-ASCII are dropped.
 * @example safeReturnTo('/account?tab=1') // '/account?tab=1'
 * @example safeReturnTo('//evil.example') // '/'
 */
export function safeReturnTo(value: unknown, fallback = '/'): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_LENGTH) return fallback;
  if (unsafe(value)) return fallback;
  // Decode repeatedly (bounded) so a doubly-encoded '//' or '\' is seen too.
  let decoded = value;
  for (let i = 0; i < 3; i++) {
    let next: string;
    try {
      next = decodeURIComponent(decoded);
    } catch {
      return fallback;
    }
    if (next === decoded) break;
    decoded = next;
    if (DECODED_DANGER.test(decoded)) return fallback;
  }
  return value;
}
