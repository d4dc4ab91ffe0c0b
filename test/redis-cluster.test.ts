// The multi-instance suite on a real Redis Cluster (3 masters + 3 replicas),
// including a master killed mid-run. About 25 s, most of it making the cluster.
import { Cluster } from 'ioredis';
import { onNode, startRedisCluster, type RedisCluster } from './redis-cluster.js';
import { sharedStoreSuite } from './scaleout-suite.js';

sharedStoreSuite(
  'Redis Cluster',
  async () => {
    const cluster: RedisCluster = await startRedisCluster();
    return {
      connect: () =>
        new Cluster(cluster.startupNodes, {
          // Commands to a dead master fail fast (the store's timeout turns them into misses); the slot map refreshes on its own.
          redisOptions: { connectTimeout: 1_000, maxRetriesPerRequest: 1 },
          clusterRetryStrategy: (n) => Math.min(n * 100, 1_000),
          slotsRefreshTimeout: 1_000,
        }),
      async killPubsub() {
        for (const node of cluster.nodes.filter((n) => n.alive)) await onNode(node.port, (r) => r.client('KILL', 'TYPE', 'pubsub'));
      },
      async failover(key) {
        const slot = Number(await onNode(cluster.startupNodes.find((n) => cluster.nodes.some((x) => x.alive && x.port === n.port))!.port, (r) => r.call('CLUSTER', 'KEYSLOT', key)));
        await cluster.killMasterOf(slot);
        await cluster.healthy();
      },
      kills: true,
      stop: () => cluster.stop(),
    };
  },
  60_000,
);
