// issue 12, finding 2: idgate's cookie reader, cookie-parser (the `cookie`
// package 0.7) and @fastify/cookie (the `cookie` package 1.x) must agree on
// which cookie-pair of a `Cookie` header is the session cookie, on a corpus of
// hostile headers and on generated ones. Pure functions: no sockets here (the
// adapters are covered in conformance.test.ts, Chromium in test/browser).
//
// Where the libraries differ from each other or from RFC 6265's grammar, the
// difference is written down next to the check that covers it:
// - Quotes: cookie 0.7 (cookie-parser) strips one pair of double quotes
//   around a value; cookie 1.x (@fastify/cookie) keeps them. idgate strips
//   them, as cookie-parser does. It does not change which pair is read, and a
//   party that can set `identityId="X"` can as well set `identityId=X`.
// - `j:` values: cookie-parser turns `j:<json>` into the parsed JSON. idgate
//   never does: it answers the raw `j:...` string, which is never a valid
//   identityId (fail closed).
// - `,` is not a separator (RFC 6265 dropped RFC 2965's `,`). No library here
//   splits on it, and idgate must not either: `pref=a, identityId=X` is one
//   cookie named `pref`.
// - Nameless cookies: a browser serializes a cookie with an empty name as its
//   bare value, so `Set-Cookie: =identityId=X` reaches every server as
//   `identityId=X`. No server-side reader can tell; RFC 6265bis has browsers
//   refuse nameless cookies whose value starts with `__Host-`/`__Secure-`,
//   which is one reason to use `cookie.hostPrefix`.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import cookieParser from 'cookie-parser';
import { fastifyCookie } from '@fastify/cookie';
import type { Request, Response } from 'express';
import { readCookie } from '@idgate/core/adapter';

const NAMES = ['identityId', '__Host-identityId'] as const;
const A = 'A'.repeat(32);
const V = 'V'.repeat(32);

/** What cookie-parser puts in req.cookies[name]. */
function viaCookieParser(header: string, name: string): unknown {
  const req = { headers: { cookie: header } } as unknown as Request;
  cookieParser()(req, {} as Response, () => {});
  return (req.cookies as Record<string, unknown>)[name];
}

/** The value @fastify/cookie puts in request.cookies[name]. */
function viaFastify(header: string, name: string): string | undefined {
  return fastifyCookie.parse(header)[name];
}

/** The `cookie` package's decode: only when there is a '%', raw when it throws. */
function decode(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * Assert that the three readers agree on `name` in `header`, up to the
 * documented differences above; returns idgate's answer.
 */
function agree(header: string, name: string): string | undefined {
  const ours = readCookie(header, name);
  // cookie-parser: the same value, except a `j:` JSON cookie, which idgate keeps raw.
  const cp = viaCookieParser(header, name);
  if (ours !== undefined && ours.startsWith('j:') && cp !== ours) {
    expect(ours.slice(2)).not.toMatch(/^[A-Za-z0-9]{32}$/);
  } else {
    expect(ours, `cookie-parser on ${JSON.stringify(header)}`).toBe(cp);
  }
  // @fastify/cookie: the same pair; its raw value, unquoted as cookie 0.7 does, then decoded.
  const raw = fastifyCookie.parse(header, { decode: (s: string) => s })[name];
  const unquoted = raw !== undefined && raw.length > 0 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
  expect(ours, `@fastify/cookie on ${JSON.stringify(header)}`).toBe(unquoted === undefined ? undefined : decode(unquoted));
  if (raw !== undefined) expect(viaFastify(header, name)).toBe(decode(raw));
  return ours;
}

/** The shared corpus: hostile headers for the session cookie `name`, with idgate's answer. */
function corpus(name: string): Array<[string, string | undefined]> {
  const lower = name.toLowerCase();
  const upper = name.replace('identityId', 'IDENTITYID');
  const pad = 'p'.repeat(8_000);
  return [
    // The finding itself, and its variants.
    [`pref=dark ${name}=${A}; ${name}=${V}`, V],
    [`pref=dark\t${name}=${A}; ${name}=${V}`, V],
    [`pref="dark ${name}=${A}"; ${name}=${V}`, V],
    [`pref=dark ${name}=${A}`, undefined],
    [`pref=${name}=${A}; ${name}=${V}`, V],
    [`pref=a, ${name}=${A}; ${name}=${V}`, V],
    [`pref=a,${name}=${A}`, undefined],
    [`=${name}=${A}; ${name}=${V}`, V],
    [`=${name}=${A}`, undefined],
    [`${name}${name}=${A}; ${name}=${V}`, V],
    [`x${name}=${A}; ${name}=${V}`, V],
    [`${name}x=${A}; ${name}=${V}`, V],
    [`${name} x=${A}; ${name}=${V}`, V],
    [`${name}; ${name}=${V}`, V],
    [`${name}; x=${name}=${A}`, undefined],
    // Duplicates: the first wins.
    [`${name}=${V}; ${name}=${A}`, V],
    [`${name}=; ${name}=${A}`, ''],
    // Look-alikes are other cookies.
    [`${lower}=${A}; ${name}=${V}`, V],
    [`${upper}=${A}; ${name}=${V}`, V],
    [`__host-identityId=${A}; __Host-identityid=${A}; __HOST-identityId=${A}; ${name}=${V}`, V],
    [`__Secure-identityId=${A}; ${name}=${V}`, V],
    [`__Host-${name}=${A}; ${name}=${V}`, V],
    // Whitespace, separators, quotes, '=' and '%'.
    [`${name}=${V}`, V],
    [`  ${name}  =  ${V}  `, V],
    [`\t${name}\t=\t${V}\t`, V],
    [`;${name}=${V};`, V],
    [`;;; ;\t;${name}=${V};;;`, V],
    [`a=1;${name}=${V}`, V],
    [`a=1 ;  \t ${name}=${V}`, V],
    [`${name}="${V}"`, V],
    [`${name}=""`, ''],
    [`${name}="`, ''],
    [`${name}="${V}`, `"${V}`],
    [`${name}=${V}=`, `${V}=`],
    [`${name}==${V}`, `=${V}`],
    [`${name}=a%3Bb`, 'a;b'],
    [`${name}=%41${'A'.repeat(31)}`, A],
    [`${name}=%`, '%'],
    [`${name}=%E0%A4%A`, '%E0%A4%A'],
    [`${name}="%22"`, '"'],
    [`${name}=j:"x"`, 'j:"x"'],
    [`${name}=j:{"a":1}; ${name}=${V}`, 'j:{"a":1}'],
    // Empty names and values.
    [`=; =${A}; ${name}=${V}`, V],
    [`=`, undefined],
    [`;`, undefined],
    [``, undefined],
    [`${name}=`, ''],
    [`${name}`, undefined],
    // Control characters and non-ASCII.
    [`\u0000${name}=${A}; ${name}=${V}`, V],
    [`pref=\u0000 ${name}=${A}; ${name}=${V}`, V],
    [`pref=x\r\n${name}=${A}; ${name}=${V}`, V],
    [`pref=x\u000b${name}=${A}; ${name}=${V}`, V],
    [`pref=x\u00a0${name}=${A}; ${name}=${V}`, V],
    [`pref=x\u3000${name}=${A}; ${name}=${V}`, V],
    [`pref=x\ufeff${name}=${A}; ${name}=${V}`, V],
    [`\u00a0${name}=${A}; ${name}=${V}`, V],
    [`${name}=\u00a0${V}\u00a0`, `\u00a0${V}\u00a0`],
    [`pref=é; ${name}=${V}`, V],
    [`${name}=é${V}`, `é${V}`],
    [`${name}=\uD800`, '\uD800'],
    // 8 kB headers.
    [`pad=${pad} ${name}=${A}; ${name}=${V}`, V],
    [`pad=${pad}; ${name}=${V}`, V],
    [`${Array.from({ length: 800 }, (_, i) => `c${i}=${name}`).join('; ')}; ${name}=${V}`, V],
    [`${`x ${name}=${A} `.repeat(180)}; ${name}=${V}`, V],
    [`${name}=${pad}`, pad],
    [`${';'.repeat(8_000)}${name}=${V}`, V],
    [`${'='.repeat(8_000)}; ${name}=${V}`, V],
  ];
}

/** Whether a `;`-separated segment is a cookie-pair named `name` (optional spaces/tabs around the name). */
function startsPair(segment: string, name: string): boolean {
  const rest = segment.replace(/^[ \t]+/, '');
  return rest.startsWith(name) && rest.slice(name.length).replace(/^[ \t]+/, '').startsWith('=');
}

describe.each(NAMES)('the Cookie grammar for %s', (name) => {
  const cases = corpus(name);

  it.each(cases.map(([header, expected], i) => [i, header.length > 120 ? `${header.slice(0, 60)}…(${header.length} chars)` : header, header, expected] as const))(
    'corpus #%i %j: readCookie, cookie-parser and @fastify/cookie agree',
    (_i, _label, header, expected) => {
      expect(agree(header, name)).toBe(expected);
    },
  );

  it('generated headers: the three readers agree, and a name inside a value is never read', () => {
    const ows = fc.constantFrom('', ' ', '\t', '  ', ' \t');
    const cookieName = fc.oneof(
      fc.constantFrom(name, name.toLowerCase(), `x${name}`, `${name}x`, '', 'pref', 'a', '__Host-identityid', '__host-identityId', 'j'),
      fc.string({ unit: 'grapheme-ascii', maxLength: 6 }).filter((s) => !/[;=]/.test(s)),
    );
    const fragment = fc.oneof(
      fc.constantFrom(`${name}=${A}`, ` ${name}=${A}`, `\t${name}=${A}`, `,${name}=${A}`, '=', '"', '%', '%2', '%41', '%E0%A4', 'j:', ' ', '\t', '\u0000', '\r\n', 'é', '\u00a0', '\uD800', 'dark', A),
      fc.string({ unit: 'binary', maxLength: 4 }).filter((s) => !s.includes(';')),
    );
    const value = fc.array(fragment, { maxLength: 5 }).map((parts) => parts.join(''));
    const pair = fc.oneof(
      fc.tuple(ows, cookieName, ows, value).map(([w1, n, w2, v]) => `${w1}${n}${w2}=${v}`),
      fc.tuple(ows, cookieName).map(([w, n]) => `${w}${n}`), // a pair without '='
    );
    const header = fc.tuple(fc.array(pair, { maxLength: 8 }), fc.constantFrom(';', '; ', ';\t', ' ;'), fc.boolean(), fc.boolean()).map(
      ([pairs, sep, lead, trail]) => `${lead ? sep : ''}${pairs.join(sep)}${trail ? sep : ''}`,
    );
    fc.assert(
      fc.property(header, (h) => {
        const ours = agree(h, name);
        // The property the finding is about: whatever was read starts a cookie-pair.
        if (ours !== undefined) expect(h.split(';').some((segment) => startsPair(segment, name))).toBe(true);
      }),
      { numRuns: 5_000 },
    );
  });
});
