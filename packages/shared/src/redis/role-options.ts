import type { ClusterOptions, RedisOptions } from 'ioredis';

/**
 * What a connection is for:
 * - `requests` serve request paths, which must fail fast (and let the api answer 503) rather than
 *   queue commands forever;
 * - `worker` connections serve BullMQ workers, which wait out a Redis outage;
 * - `subscriber` connections only listen to pub/sub channels.
 * Command connections pipeline automatically: commands issued in the same tick go out in one write,
 * which under load saves a system call per command on both sides.
 */
export type RedisRole = 'requests' | 'worker' | 'subscriber';

export const BY_ROLE: Record<RedisRole, RedisOptions> = {
  requests: {
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: 5_000,
    enableAutoPipelining: true,
  },
  worker: { maxRetriesPerRequest: null, enableAutoPipelining: true },
  subscriber: { maxRetriesPerRequest: null },
};

export const retryStrategy = (attempt: number): number => Math.min(attempt * 100, 2_000);

/**
 * How long a cluster command keeps trying while its slot has no reachable master (a master died and
 * its replica is not promoted yet): the cluster client retries every `retryDelayOnFailover` ms, at
 * most `maxRedirections` times. Request paths give up within about the time a failover takes with a
 * short node timeout, and answer 503; workers wait out a longer one.
 */
export const CLUSTER_BY_ROLE: Record<RedisRole, ClusterOptions> = {
  // While the client has no cluster at all (every node lost), request paths fail at once instead of
  // queueing, as a server's connection does after its one retry.
  requests: { retryDelayOnFailover: 100, maxRedirections: 16, enableOfflineQueue: false },
  worker: { retryDelayOnFailover: 200, maxRedirections: 100 },
  subscriber: {},
};
