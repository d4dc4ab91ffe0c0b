#!/usr/bin/env node
// Debian packages the test suite talks to for real: redis-server (the Redis
// store's tests, Sentinel included: redis-server --sentinel), redis-tools
// (redis-cli, which makes the test Redis Cluster) and chromium (the browser suite). Installed when missing and
// we are root; otherwise we say what is missing and those suites skip loudly.
import { spawnSync } from 'node:child_process';

const wanted = [
  ['redis-server', 'redis-server'],
  ['redis-cli', 'redis-tools'],
  ['chromium', 'chromium'],
];
const has = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
const missing = wanted.filter(([bin]) => !has(bin)).map(([, pkg]) => pkg);
if (missing.length === 0) process.exit(0);
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasApt = has('apt-get');
if (isRoot && hasApt && process.env.IDGATE_NO_APT !== '1') {
  console.log(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
  const r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
  if (r.status !== 0) console.warn(`apt-get install failed for: ${missing.join(' ')}`);
} else {
  console.warn(`missing system packages (${missing.join(', ')}); install them with apt-get to run every suite`);
}
