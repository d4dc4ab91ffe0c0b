// Real Redis topologies for the scale-out suites: a Redis Cluster of 3 masters
// + 3 replicas, and a Sentinel group (master + replica + 3 sentinels). Every
// server is Debian's redis-server on a free 127.0.0.1 port, without
// persistence, in a temporary directory removed on stop.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { freePort } from './harness.js';

/** One redis-server process. */
export interface RedisNode {
  readonly port: number;
  /** SIGKILL (a crash); resolves once the process is gone. */
  kill(): Promise<void>;
  readonly alive: boolean;
}

function spawnNode(args: string[], port: number): RedisNode {
  const child: ChildProcess = spawn('redis-server', args, { stdio: 'ignore' });
  // A missing binary shows as a node that never answers; `startRedisCluster` checks the binaries first.
  child.once('error', () => {});
  return {
    port,
    get alive() {
      return child.exitCode === null && child.signalCode === null;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Run `fn` on a short-lived connection to one node. */
export async function onNode<T>(port: number, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 500 });
  r.on('error', () => {});
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

async function waitFor(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    await sleep(50);
  }
  throw new Error(`${what}: not within ${ms} ms`);
}

function requireBinaries(): void {
  for (const [bin, pkg] of [['redis-server', 'redis-server'], ['redis-cli', 'redis-tools']] as const) {
    if (spawnSync(bin, ['--version'], { stdio: 'ignore' }).status !== 0) throw new Error(`${bin} not found (apt-get install ${pkg})`);
  }
}

const BASE = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes', '--enable-debug-command', 'local'];

/** A real Redis Cluster made by the test. */
export interface RedisCluster {
  nodes: RedisNode[];
  /** Where an ioredis `Cluster` starts. */
  startupNodes: { host: string; port: number }[];
  /** The current masters' ports, by the cluster's own view. */
  masters(): Promise<number[]>;
  /** Kill the master that serves `slot`; resolves to its port. */
  killMasterOf(slot: number): Promise<number>;
  /** Until every slot is served again and the cluster says ok. */
  healthy(ms?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Node timeout: how long before a dead master's replica takes over (plus an election, ~1 s). */
export const CLUSTER_NODE_TIMEOUT = 1_000;

/**
 * 3 masters + 3 replicas (`redis-server --cluster-enabled yes`, then
 * `redis-cli --cluster create --cluster-replicas 1`). Fails loudly when
 * redis-server or redis-cli (Debian: redis-tools) is missing.
 */
export async function startRedisCluster(): Promise<RedisCluster> {
  requireBinaries();
  const dir = mkdtempSync(join(tmpdir(), 'idgate-cluster-'));
  const ports: number[] = [];
  for (let i = 0; i < 6; i++) {
    let p = await freePort();
    // The cluster bus listens on port + 10000: keep both free and distinct.
    while (p > 55_000 || ports.includes(p)) p = await freePort();
    ports.push(p);
  }
  const nodes = ports.map((port) =>
    spawnNode(
      ['--port', String(port), ...BASE, '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', String(CLUSTER_NODE_TIMEOUT), '--dir', dir],
      port,
    ),
  );
  const cluster: RedisCluster = {
    nodes,
    startupNodes: ports.map((port) => ({ host: '127.0.0.1', port })),
    async masters() {
      for (const node of nodes.filter((n) => n.alive)) {
        try {
          const text = await onNode(node.port, (r) => r.call('CLUSTER', 'NODES') as Promise<string>);
          return text
            .split('\n')
            .filter((l) => /\bmaster\b/.test(l) && !/\bfail\b/.test(l) && l.split(' ').length > 8)
            .map((l) => Number(l.split(' ')[1]!.split(':')[1]!.split('@')[0]));
        } catch {
          // try the next node
        }
      }
      return [];
    },
    async killMasterOf(slot) {
      for (const node of nodes.filter((n) => n.alive)) {
        try {
          const slots = (await onNode(node.port, (r) => r.call('CLUSTER', 'SLOTS'))) as [number, number, [string, number]][];
          const range = slots.find(([from, to]) => slot >= from && slot <= to)!;
          const port = range[2][1];
          await nodes.find((n) => n.port === port)!.kill();
          return port;
        } catch {
          // try the next node
        }
      }
      throw new Error('no live node answered CLUSTER SLOTS');
    },
    async healthy(ms = 15_000) {
      await waitFor('cluster healthy', ms, async () => {
        for (const node of nodes.filter((n) => n.alive)) {
          const info = await onNode(node.port, (r) => r.call('CLUSTER', 'INFO') as Promise<string>);
          if (!/cluster_state:ok/.test(info) || !/cluster_slots_ok:16384/.test(info)) return false;
          // A killed master counts until a live replica serves its slots.
          const slots = (await onNode(node.port, (r) => r.call('CLUSTER', 'SLOTS'))) as [number, number, [string, number]][];
          if (!slots.every((range) => nodes.some((n) => n.alive && n.port === range[2][1]))) return false;
        }
        return true;
      });
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.kill()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    for (const port of ports) await waitFor(`redis-server on ${port}`, 5_000, () => onNode(port, async (r) => (await r.ping()) === 'PONG'));
    const created = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes'], { encoding: 'utf8', timeout: 30_000 });
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    await cluster.healthy();
    // Every replica in sync, so a failover loses nothing the test wrote before it.
    await waitFor('replicas attached', 10_000, async () => {
      let linked = 0;
      for (const port of ports) {
        const info = await onNode(port, (r) => r.info('replication'));
        if (/role:slave/.test(info) && /master_link_status:up/.test(info)) linked++;
      }
      return linked === 3;
    });
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

/** A real Sentinel group: one master, one replica, three sentinels. */
export interface RedisSentinelGroup {
  name: string;
  sentinels: { host: string; port: number }[];
  /** The data nodes (index 0 starts as the master). */
  nodes: RedisNode[];
  /** The master's port as the sentinels see it. */
  master(): Promise<number>;
  /** `SENTINEL FAILOVER`; resolves once the sentinels name a new master and it accepts writes. */
  failover(ms?: number): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Master + replica + 3 sentinels (`redis-server <conf> --sentinel`, which is
 * what Debian's redis-sentinel runs), down-after 1 s.
 */
export async function startRedisSentinel(): Promise<RedisSentinelGroup> {
  requireBinaries();
  const dir = mkdtempSync(join(tmpdir(), 'idgate-sentinel-'));
  const name = 'idgate';
  const [masterPort, replicaPort] = [await freePort(), await freePort()];
  const nodes = [
    spawnNode(['--port', String(masterPort), ...BASE, '--dir', dir], masterPort),
    spawnNode(['--port', String(replicaPort), ...BASE, '--dir', dir, '--replicaof', '127.0.0.1', String(masterPort)], replicaPort),
  ];
  const sentinelPorts = [await freePort(), await freePort(), await freePort()];
  const sentinels: RedisNode[] = [];
  const group: RedisSentinelGroup = {
    name,
    sentinels: sentinelPorts.map((port) => ({ host: '127.0.0.1', port })),
    nodes,
    async master() {
      for (const port of sentinelPorts) {
        try {
          const [, p] = (await onNode(port, (r) => r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name))) as [string, string];
          return Number(p);
        } catch {
          // next sentinel
        }
      }
      throw new Error('no sentinel answered');
    },
    async failover(ms = 15_000) {
      const before = await group.master();
      await onNode(sentinelPorts[0]!, (r) => r.call('SENTINEL', 'FAILOVER', name));
      let after = before;
      await waitFor('sentinel failover', ms, async () => {
        after = await group.master();
        if (after === before) return false;
        const role = await onNode(after, (r) => r.info('replication'));
        return /role:master/.test(role);
      });
      return after;
    },
    async stop() {
      await Promise.all([...sentinels, ...nodes].map((n) => n.kill()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    for (const port of [masterPort, replicaPort]) await waitFor(`redis-server on ${port}`, 5_000, () => onNode(port, async (r) => (await r.ping()) === 'PONG'));
    await waitFor('replica in sync', 10_000, async () => /master_link_status:up/.test(await onNode(replicaPort, (r) => r.info('replication'))));
    for (const port of sentinelPorts) {
      const conf = join(dir, `sentinel-${port}.conf`);
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${name} 127.0.0.1 ${masterPort} 2`,
          `sentinel down-after-milliseconds ${name} 1000`,
          `sentinel failover-timeout ${name} 5000`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
      );
      sentinels.push(spawnNode([conf, '--sentinel'], port));
    }
    // Every sentinel knows the replica and the other sentinels before a failover is asked for.
    await waitFor('sentinels ready', 15_000, async () => {
      for (const port of sentinelPorts) {
        const info = (await onNode(port, (r) => r.call('SENTINEL', 'MASTER', name))) as string[];
        const field = (k: string) => Number(info[info.indexOf(k) + 1]);
        if (field('num-slaves') < 1 || field('num-other-sentinels') < 2) return false;
      }
      return true;
    });
  } catch (err) {
    await group.stop();
    throw err;
  }
  return group;
}
