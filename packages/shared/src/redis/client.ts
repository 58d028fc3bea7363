import { Cluster, Redis } from 'ioredis';
import type { Config } from '../config.js';
import { countConnectionError } from '../connection-errors.js';
import { BY_ROLE, CLUSTER_BY_ROLE, retryStrategy, type RedisRole } from './role-options.js';

/** A connection to one Redis server or to a Redis Cluster: the commands the system uses are the same. */
export type RedisClient = Redis | Cluster;

/** Where Redis is: one server's URL, or the settings, whose cluster nodes (when set) win over the URL. */
export type RedisAddress = string | Pick<Config, 'redisUrl' | 'redisClusterNodes'>;

export function createRedis(address: string, role: RedisRole, name?: string): Redis;
export function createRedis(address: RedisAddress, role: RedisRole, name?: string): RedisClient;
export function createRedis(address: RedisAddress, role: RedisRole, name?: string): RedisClient {
  const nodes = typeof address === 'string' ? undefined : address.redisClusterNodes;
  const { enableAutoPipelining, ...perNode } = BY_ROLE[role];
  const redis =
    nodes === undefined
      ? new Redis(typeof address === 'string' ? address : address.redisUrl, {
          connectionName: name,
          retryStrategy,
          ...BY_ROLE[role],
        })
      : new Cluster(
          nodes.map(({ host, port }) => ({ host, port })),
          {
            // Every node connection carries the name and the role's limits. The cluster client does
            // not reconnect a lost node: it reads the slots again and follows them to the new master.
            redisOptions: { connectionName: name, ...perNode },
            clusterRetryStrategy: retryStrategy,
            enableReadyCheck: true,
            // Pipelines are per node: commands for one node issued in the same tick share a write.
            // The cluster client picks a command's pipeline by its first argument, which for EVAL and
            // EVALSHA is the script, not a key: those go out on their own, routed by their keys.
            enableAutoPipelining,
            autoPipeliningIgnoredCommands: ['eval', 'evalsha'],
            ...CLUSTER_BY_ROLE[role],
          },
        );
  // Connection errors surface on the commands that need the connection; ioredis reconnects by itself.
  redis.on('error', () => countConnectionError('redis'));
  if (redis instanceof Cluster) redis.on('node error', () => countConnectionError('redis'));
  return redis;
}

/** Where a client connects, for messages: the URL's host and port, or the cluster's seed nodes. */
export function describeRedis(address: RedisAddress): string {
  if (typeof address !== 'string' && address.redisClusterNodes !== undefined)
    return `the Redis Cluster at ${address.redisClusterNodes.map(({ host, port }) => `${host}:${port}`).join(',')}`;
  const url = new URL(typeof address === 'string' ? address : address.redisUrl);
  return `Redis at ${url.host}`;
}

/**
 * `CLIENT LIST` of every server the client talks to: the one server, or each master of the cluster
 * (a client of the cluster holds a connection to every master it sent commands to).
 */
export async function clientLists(redis: RedisClient): Promise<string[]> {
  if (redis instanceof Cluster)
    return Promise.all(redis.nodes('master').map((node) => node.client('LIST') as Promise<string>));
  return [(await redis.client('LIST')) as string];
}
