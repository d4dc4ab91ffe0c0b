#!/usr/bin/env node
// Development tool: `node bench/hitpath.mjs [blocks]`: the in-memory hit in
// process, idgate against the floor, timed in alternating blocks of 100,000
// (median ns per hit of each, and of the difference). idgate: what the
// middleware and `requireIdentity()` run (authenticate, decide twice,
// applyHeaders twice); the floor: one indexOf, lru-cache get, two setHeader.
// Each on a fresh Node `OutgoingMessage`. Hot caches: a loaded server pays
// more per touch (bench/PROFILE.md); use it to rank changes, `ab.mjs` and
// `pnpm bench` for what they are worth in a server.
import { OutgoingMessage } from 'node:http';
import { LRUCache } from 'lru-cache';
import { startMockUpstream } from '@idgate/mock-upstream';
import { applyHeaders, createIdgate, requiredRule } from '@idgate/core/adapter';
import { cookieValue } from './servers/shared.mjs';
import { loginMany, MOCK_API_KEY, BENCH_SECRET } from './lib/upstream.mjs';

const blocks = Number(process.argv[2] ?? 21);
const N = 100_000;
const mock = await startMockUpstream({ quiet: true });
const [value] = await loginMany(mock, 1);
const headers = { host: '127.0.0.1:3000', accept: 'application/json', cookie: `identityId=${value}` };
const req = { method: 'GET', url: '/api/me', headers, ip: '127.0.0.1', protocol: 'http' };
const gate = createIdgate({ upstreamUrl: mock.url, apiKey: MOCK_API_KEY, secret: BENCH_SECRET });
await gate.authenticate(req); // the cold miss: verified, cached
const rule = requiredRule({});
const cache = new LRUCache({ max: 10_000 });
cache.set(value, { id: 'c_demo' });
let sink = 0;

function idgate() {
  for (let i = 0; i < N; i++) {
    const res = new OutgoingMessage();
    const state = gate.authenticate(req);
    applyHeaders(res, gate.decide(state, req));
    const again = gate.decide(state, req, rule);
    applyHeaders(res, again);
    sink += again.kind.length;
  }
}
function floor() {
  for (let i = 0; i < N; i++) {
    const res = new OutgoingMessage();
    const user = cache.get(cookieValue(headers.cookie, 'identityId='));
    if (user) {
      res.setHeader('Cache-Control', 'private, no-store');
      res.setHeader('Vary', 'Cookie');
    }
    sink += user ? 1 : 0;
  }
}
const time = (fn) => {
  const t = performance.now();
  fn();
  return ((performance.now() - t) * 1e6) / N;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const a = [], b = [], d = [];
for (let i = 0; i < blocks; i++) {
  const x = i % 2 ? time(floor) : NaN, y = time(idgate), z = i % 2 ? NaN : time(floor);
  const f = Number.isNaN(x) ? z : x;
  a.push(f), b.push(y), d.push(y - f);
}
console.log(`in process, ns per hit (median of ${blocks} blocks of ${N}): floor ${median(a).toFixed(0)}, idgate ${median(b).toFixed(0)}, idgate − floor ${median(d).toFixed(0)}`);
await mock.close();
if (sink < 0) console.log(sink);
