import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { freePort } from './harness.js';

/** A real redis-server (Debian's), on a free loopback port, without persistence. */
export interface RedisServer {
  port: number;
  url: string;
  stop(): Promise<void>;
}


/**
 * An ioredis client for the tests: quick reconnects, one retry per command,
 * errors swallowed (the store under test reports them); kept in `clients` to close.
 */
export function redisClient(url: string, clients: Redis[]): Redis {
  const c = new Redis(url, { retryStrategy: (n) => Math.min(n * 50, 300), maxRetriesPerRequest: 1 });
  c.on('error', () => {});
  clients.push(c);
  return c;
}

/** Start redis-server; fails loudly when it is not installed (`.ci/run` installs it). */
export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes', '--enable-debug-command', 'local'], {
    stdio: 'ignore',
  });
  const failed = new Promise<never>((_, reject) => child.once('error', (err) => reject(new Error(`redis-server could not start (apt-get install redis-server): ${err.message}`))));
  const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  probe.on('error', () => {});
  const ready = (async () => {
    for (let i = 0; i < 100; i++) {
      try {
        await probe.connect();
        await probe.ping();
        probe.disconnect();
        return;
      } catch {
        await sleep(50);
      }
    }
    throw new Error('redis-server did not become ready');
  })();
  await Promise.race([ready, failed]);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}
