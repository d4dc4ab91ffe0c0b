#!/usr/bin/env node
// Placeholder until the benchmark issue lands: it measures nothing, and says so
// rather than printing a number that means nothing.
console.log('idgate bench: no benchmarks are implemented yet (see the benchmarks issue).');
console.log('Nothing was measured; no figures are reported.');
