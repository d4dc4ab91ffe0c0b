import type { IdgateConfig } from './config.js';
import { pathOf } from './request.js';

/**
 * The `protect` option, compiled once: which requests must carry an identity.
 *
 * The framework, not idgate, decides which handler runs, and each one reads the
 * request target its own way: Express and @koa/router match the raw path
 * case-insensitively with an optional trailing slash, and through Node's legacy
 * URL parser (which turns `\` into `/` and trims) when the target has `#`;
 * Fastify percent-decodes first and can fold case, drop a trailing slash, merge
 * slashes or cut at `;`; all of them accept the absolute form
 * `GET http://host/path`. idgate cannot know which of these a given app does
 * (an Express sub-router has settings of its own), so it fails closed: it
 * derives every view a router could plausibly take of the target and protects
 * the request when ANY view matches. A target it cannot read as a path at all
 * is protected. Over-protection is confined to odd targets; a path of plain
 * characters takes a fast path that matches it once, allocating nothing.
 */
export interface ProtectMatcher {
  /**
   * True when a request with this target (`req.url` as the client sent it:
   * origin-form or absolute-form, query included) must carry an identity.
   * @example
   * compileProtect(config).target('/MEMBERS/area?x=1'); // true with protect: ['/members/*']
   */
  target(target: string): boolean;
  /**
   * True when a route registered with this pattern (e.g. Fastify's
   * `/members/:id`) serves only protected paths, so an adapter can guard the
   * route itself, whatever target reached it. Patterns not starting with `/` give false.
   * @example
   * compileProtect(config).route('/members/:id'); // true with protect: ['/members/*']
   */
  route(pattern: string): boolean;
}

/** Decoding rounds before a still-changing target is given up on (and protected). */
const MAX_DECODE_ROUNDS = 4;
/** Longest path (query excluded) worth deriving views of; a longer odd one is protected, so no target buys much CPU (about 0.5 ms at this length, worst case). */
const MAX_VIEWED_PATH = 2_048;

/** Case-fold the way a case-insensitive router might: upper then lower also catches K (Kelvin) → k. */
const fold = (s: string): string => s.toUpperCase().toLowerCase();

/** The path without trailing slashes (routers accept one, and we fail closed on more); `/` stays `/`. */
function key(s: string): string {
  if (s.length < 2 || s.charCodeAt(s.length - 1) !== 47) return s;
  let end = s.length - 1;
  while (end > 0 && s.charCodeAt(end - 1) === 47) end--;
  return end === 0 ? '/' : s.slice(0, end);
}

/** Lowercase letters, digits, `/`, `-`, `_`, `.` (not starting a segment), no `//`: the fast path's alphabet. Returns the path's end or -1. */
function plainPathEnd(target: string): number {
  if (target.charCodeAt(0) !== 47) return -1;
  let prev = 47;
  for (let i = 1; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c === 63) return i; // '?': the query does not route
    if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 95) { prev = c; continue; }
    if (c === 47 ? prev === 47 : c !== 46 || prev === 47) return -1;
    prev = c;
  }
  return target.length;
}

/** The path (and what follows it) of an origin-form or absolute-form target; undefined for anything else (`*`, authority-form, `http:x`). */
function pathPart(target: string): string | undefined {
  if (target.charCodeAt(0) === 47) return target;
  // Absolute-form. Node's legacy parser (Express, Koa) reads `\` as `/` and any scheme; find-my-way (Fastify) http(s) only.
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:[/\\]{2}/.exec(target);
  if (scheme === null) return undefined;
  let end = scheme[0].length;
  while (end < target.length && !'/\\?#'.includes(target[end]!)) end++;
  // An authority a parser could split differently (legacy url.parse moves a host's odd characters into the path): fail closed.
  if (!/^(?:[^@]*@)?(?:[A-Za-z0-9.-]*|\[[0-9A-Fa-f:.]*\])(?::[0-9]*)?$/.test(target.slice(scheme[0].length, end))) return undefined;
  const rest = target.slice(end);
  return rest.charCodeAt(0) === 47 || rest.charCodeAt(0) === 92 ? rest : '/' + rest;
}

/** `\` → `/` before the query, as Node's legacy URL parser does. */
function backslashesAsSlashes(s: string): string {
  if (!s.includes('\\')) return s;
  const q = s.search(/[?#]/);
  const head = q === -1 ? s : s.slice(0, q);
  return head.replace(/\\/g, '/') + (q === -1 ? '' : s.slice(q));
}

/** Cut at the query or fragment, then trim what Node's legacy parser trims (controls, space, NBSP, BOM). */
function routedPart(s: string): string {
  const q = s.search(/[?#]/);
  const path = (q === -1 ? s : s.slice(0, q)).replace(/[\u0000-\u0020\u00a0\ufeff]+$/, '');
  return path.length === 0 ? '/' : path;
}

/** One round of percent-decoding; a run that is not UTF-8 keeps its non-ASCII escapes. */
function decodeOnce(s: string): string {
  if (!s.includes('%')) return s;
  return s.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run.replace(/%[0-7][0-9A-Fa-f]/g, (e) => String.fromCharCode(parseInt(e.slice(1), 16)));
    }
  });
}

/** RFC 3986 remove_dot_segments, for routers (or proxies in front of them) that resolve `.` and `..`. */
function resolveDots(path: string): string {
  if (!path.includes('.') || path.charCodeAt(0) !== 47) return path;
  const segments = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i]!;
    const last = i === segments.length - 1;
    if (s === '.' || s === '..') {
      if (s === '..') out.pop();
      if (last) out.push('');
    } else out.push(s);
  }
  return '/' + out.join('/');
}

// Each step is optional: a router may apply any of them. Order follows the routers (slashes merged before params and dots).
const STEPS: readonly ((path: string) => string)[] = [
  (p) => p.replace(/\/{2,}/g, '/'),
  (p) => { const i = p.indexOf(';'); return i === -1 ? p : p.slice(0, i) || '/'; }, // find-my-way's useSemicolonDelimiter
  (p) => p.replace(/;[^/]*/g, '') || '/', // per-segment `;params`
  resolveDots,
];

function addVariants(out: Set<string>, path: string): void {
  const variants = [path];
  for (const step of STEPS) {
    for (let i = 0, n = variants.length; i < n; i++) {
      const v = step(variants[i]!);
      if (!variants.includes(v)) variants.push(v);
    }
  }
  for (const v of variants) out.add(v);
}

/**
 * Every path a router could take `target` to mean, or undefined when the
 * target is not origin-form or absolute-form or will not stop decoding: raw;
 * `\` read as `/`; percent-decoded once, twice, … until stable (each round
 * also cut at a decoded `?`/`#`); each with merged slashes, without `;params`,
 * with dot segments resolved, in every combination. Case and trailing slashes
 * are handled by the matcher.
 * @example
 * requestPathViews('/a/%2e%2e/Account;x'); // includes '/a/%2e%2e/Account;x', '/a/../Account', '/Account'
 */
export function requestPathViews(target: string): Set<string> | undefined {
  const part = pathPart(target);
  if (part === undefined) return undefined;
  const q = part.search(/[?#]/);
  if ((q === -1 ? part.length : q) > MAX_VIEWED_PATH) return undefined;
  const out = new Set<string>();
  const starts = [part];
  const slashed = backslashesAsSlashes(part);
  if (slashed !== part) starts.push(slashed);
  for (const start of starts) {
    let view = routedPart(start);
    for (let round = 0; ; round++) {
      addVariants(out, view);
      const decoded = decodeOnce(view);
      if (decoded === view) break;
      if (round === MAX_DECODE_ROUNDS) return undefined;
      const recut = routedPart(backslashesAsSlashes(decoded));
      if (recut !== decoded) addVariants(out, recut);
      view = decoded;
    }
  }
  return out;
}

/**
 * Compile `protect` and `loginUrl` into a matcher (see {@link ProtectMatcher}).
 * String patterns: `'/account'` (that path, with or without trailing slashes)
 * and `'/api/*'` (`/api` and everything under it), compared case-folded and
 * also in their percent-decoded form. RegExps and a function are tried on every
 * view, as written, case-folded and without trailing slashes. The login URL is
 * never protected when every view of the target is the login path, so no
 * redirect loop is possible and no other path can hide behind it.
 * @param config the resolved `protect` and `loginUrl` options.
 * @example
 * const protect = compileProtect(resolveConfig({ ...options, protect: ['/members/*', '/account'] }));
 * protect.target('http://127.0.0.1/ACCOUNT/'); // true
 * protect.target('/public');                   // false
 */
export function compileProtect(config: Pick<IdgateConfig, 'protect' | 'loginUrl'>): ProtectMatcher {
  const { protect } = config;
  if (typeof protect !== 'function' && protect.length === 0) return { target: () => false, route: () => false };
  const login = key(fold(pathOf(config.loginUrl)));
  const loginSlash = login + '/';
  const exact = new Set<string>(); // keys, and keys + '/' for the fast path
  const prefixes: string[] = [];
  const tests: ((path: string) => boolean)[] = [];
  if (typeof protect === 'function') tests.push(protect);
  else {
    for (const p of protect) {
      if (p instanceof RegExp) {
        tests.push((path) => ((p.lastIndex = 0), p.test(path)));
        continue;
      }
      for (const form of new Set([fold(p), fold(decodeAll(p))])) {
        const base = form.endsWith('/*') ? form.slice(0, -2) : form;
        if (form.endsWith('/*')) prefixes.push(key(base || '/') === '/' ? '/' : key(base) + '/');
        const k = key(base || '/');
        exact.add(k).add(k === '/' ? k : k + '/');
      }
    }
  }
  const hasTests = tests.length !== 0;

  function anyTest(path: string): boolean {
    for (const test of tests) if (test(path)) return true;
    return false;
  }

  function matchesViews(views: Set<string>): boolean {
    let hit = false;
    let allLogin = true;
    for (const view of views) {
      const k = key(fold(view));
      if (k !== login) allLogin = false;
      if (!hit) {
        hit = exact.has(k) || prefixes.some((prefix) => k.startsWith(prefix));
        if (!hit && hasTests) hit = anyTest(view) || anyTest(key(view)) || anyTest(fold(view)) || anyTest(k);
      }
      if (hit && !allLogin) return true;
    }
    return false;
  }

  return {
    target(target) {
      const end = plainPathEnd(target);
      if (end !== -1) {
        // Fast path: the one view every router agrees on. Same answer as the slow path (tested), no extra allocation.
        const path = end === target.length ? target : target.slice(0, end);
        if (path === login || path === loginSlash) return false;
        if (exact.has(path)) return true;
        for (const prefix of prefixes) if (path.startsWith(prefix)) return true;
        if (!hasTests) return false;
        return anyTest(path) || (path.length > 1 && path.charCodeAt(path.length - 1) === 47 && anyTest(key(path)));
      }
      const views = requestPathViews(target);
      return views === undefined || matchesViews(views);
    },
    route(pattern) {
      if (pattern.charCodeAt(0) !== 47) return false;
      const views = requestPathViews(pattern);
      try {
        return views !== undefined && matchesViews(views);
      } catch {
        // A protect function that throws on a route pattern throws again on the request, which then takes
        // the framework's error path (never the handler): the per-request check keeps failing closed.
        return false;
      }
    },
  };
}

/** Percent-decode a pattern until stable (bounded), for patterns written encoded. */
function decodeAll(p: string): string {
  for (let i = 0; i < MAX_DECODE_ROUNDS; i++) {
    const d = decodeOnce(p);
    if (d === p) break;
    p = d;
  }
  return p;
}
