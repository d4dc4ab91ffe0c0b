// A real redis-server (Debian's) on a free loopback port, without persistence,
// pinned to the load core: the server core measures the server alone.
import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { LOAD_CORE } from './proc.mjs';

async function freePort() {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

export async function startRedis() {
  const port = await freePort();
  const child = spawn('taskset', ['-c', LOAD_CORE, 'redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], { stdio: 'ignore' });
  const exited = once(child, 'exit');
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  client.on('error', () => {});
  let ready = false;
  for (let i = 0; i < 100 && !ready; i++) {
    try {
      await client.connect();
      await client.ping();
      ready = true;
    } catch {
      await sleep(50);
    }
  }
  if (!ready) {
    child.kill('SIGKILL');
    throw new Error('redis-server did not become ready (apt-get install redis-server)');
  }
  const version = execFileSync('redis-server', ['--version']).toString().match(/v=(\S+)/)?.[1] ?? 'unknown';
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid,
    version,
    /** Keys matching a pattern (SCAN, bounded by the test's own key count). */
    async count(pattern) {
      let cursor = '0';
      let n = 0;
      for (let i = 0; i < 10_000; i++) {
        const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        n += keys.length;
        cursor = next;
        if (cursor === '0') break;
      }
      return n;
    },
    async stop() {
      client.disconnect();
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}
