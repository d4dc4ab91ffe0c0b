// The multi-instance suite on a real Sentinel group (master + replica + 3
// sentinels), including a forced failover (SENTINEL FAILOVER) mid-run. About
// 15 s, most of it waiting for the sentinels to find each other.
import { Redis } from 'ioredis';
import { onNode, startRedisSentinel, type RedisSentinelGroup } from './redis-cluster.js';
import { sharedStoreSuite } from './scaleout-suite.js';

sharedStoreSuite(
  'Redis Sentinel',
  async () => {
    const group: RedisSentinelGroup = await startRedisSentinel();
    return {
      connect: () =>
        new Redis({
          sentinels: group.sentinels,
          name: group.name,
          connectTimeout: 1_000,
          maxRetriesPerRequest: 1,
          retryStrategy: (n) => Math.min(n * 50, 300),
          // A demoted master answers writes with READONLY: reconnect, and ask the sentinels again.
          reconnectOnError: (err) => err.message.startsWith('READONLY'),
        }),
      async killPubsub() {
        for (const node of group.nodes.filter((n) => n.alive)) await onNode(node.port, (r) => r.client('KILL', 'TYPE', 'pubsub'));
      },
      async failover() {
        await group.failover();
      },
      kills: false,
      stop: () => group.stop(),
    };
  },
  60_000,
);
