#!/usr/bin/env node
// Development tool: `node bench/ab.mjs <framework> <variantA> <variantB> [pairs] [seconds] [procs]`:
// `abn.mjs` with two variants (B against A), the form the figures in
// PROFILE.md were taken with. Two servers pinned to the server core, loaded
// alternately in short windows, server CPU per request from
// /proc/<pid>/schedstat; the median of the paired differences, over `procs`
// fresh process pairs (default 1).
const [framework = 'fastify', a = 'lru', b = 'idgate', pairs = '15', seconds = '1', procs = '1'] = process.argv.slice(2);
process.argv.splice(2, Infinity, framework, `${a},${b}`, pairs, seconds, procs);
await import('./abn.mjs');
