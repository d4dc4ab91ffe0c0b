import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { applyHeaders, PRIVATE_HEADERS, type Decision, type Header } from './decision.js';

const response = () => new ServerResponse(new IncomingMessage(new Socket()));
const next = (headers: readonly Header[]): Decision => ({ kind: 'next', identity: null, status: 'authenticated', headers, setCookies: [] });

describe('applyHeaders', () => {
  // PRIVATE_HEADERS is written from constants; a copy of the same list takes the general loop: both must agree.
  const lists: [string, readonly Header[]][] = [
    ['PRIVATE_HEADERS', PRIVATE_HEADERS],
    ['a copy of it', PRIVATE_HEADERS.map((h) => [h[0], h[1]] as const)],
  ];
  for (const [name, headers] of lists) {
    it(`${name}: sets Cache-Control and merges Vary with what the response already has`, () => {
      const cases: [string | undefined, string][] = [
        [undefined, 'Cookie'],
        ['Origin', 'Origin, Cookie'],
        ['Accept-Encoding, cookie', 'Accept-Encoding, cookie'],
        ['*', '*'],
        ['Cookie', 'Cookie'],
      ];
      for (const [before, after] of cases) {
        const res = response();
        res.setHeader('cache-control', 'public, max-age=60');
        if (before !== undefined) res.setHeader('Vary', before);
        applyHeaders(res, next(headers));
        expect(res.getHeader('vary')).toBe(after);
        expect(res.getHeader('cache-control')).toBe('private, no-store');
        expect(Object.keys(res.getHeaders()).sort()).toEqual(['cache-control', 'vary']);
      }
    });
  }
});
