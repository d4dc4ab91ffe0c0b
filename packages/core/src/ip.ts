/**
 * IP address syntax without `node:net`, so core runs where it is absent
 * (Bun, Deno, edge runtimes). Same answers as Node's `isIP` (test: ip.test.ts
 * compares the two over generated input): dotted-quad IPv4 without leading
 * zeros; IPv6 in hex groups with at most one `::`, an optional IPv4 tail and
 * an optional `%zone`.
 */

const V4_PART = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
const ZONE = /^[0-9a-zA-Z\-.:]+$/;

function isV4(value: string): boolean {
  const parts = value.split('.');
  return parts.length === 4 && parts.every((p) => V4_PART.test(p));
}

function isV6(value: string): boolean {
  const percent = value.indexOf('%');
  const address = percent === -1 ? value : value.slice(0, percent);
  if (percent !== -1 && !ZONE.test(value.slice(percent + 1))) return false;
  const halves = address.split('::');
  if (halves.length > 2) return false;
  const groups = (text: string): string[] | null => (text === '' ? [] : text.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (head === null || tail === null) return false;
  const all = [...head, ...tail];
  let width = 0;
  for (let i = 0; i < all.length; i++) {
    const g = all[i]!;
    if (i === all.length - 1 && g.includes('.')) {
      // An IPv4 tail may only end the address, and fills two groups.
      if (!isV4(g) || (halves.length === 2 && tail.length === 0)) return false;
      width += 2;
    } else if (HEX_GROUP.test(g)) width += 1;
    else return false;
  }
  return halves.length === 2 ? width <= 7 : width === 8;
}

/**
 * 4 for an IPv4 address, 6 for an IPv6 address, 0 for anything else: what
 * `node:net`'s `isIP` answers.
 * @example ipVersion('::ffff:10.0.0.1') // 6
 */
export function ipVersion(value: string): 0 | 4 | 6 {
  if (isV4(value)) return 4;
  return value.includes(':') && isV6(value) ? 6 : 0;
}
