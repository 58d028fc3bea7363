import { createHash } from 'node:crypto';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Config } from '../config.js';
import { countConnectionError } from '../connection-errors.js';
import { failureReason, retryUntilReady } from '../db/migrate.js';

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

/** A connection to one Redis server or to a Redis Cluster: the commands the system uses are the same. */
export type RedisClient = Redis | Cluster;

/** Where Redis is: one server's URL, or the settings, whose cluster nodes (when set) win over the URL. */
export type RedisAddress = string | Pick<Config, 'redisUrl' | 'redisClusterNodes'>;

const BY_ROLE: Record<RedisRole, RedisOptions> = {
  requests: {
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: 5_000,
    enableAutoPipelining: true,
  },
  worker: { maxRetriesPerRequest: null, enableAutoPipelining: true },
  subscriber: { maxRetriesPerRequest: null },
};

const retryStrategy = (attempt: number): number => Math.min(attempt * 100, 2_000);

/**
 * How long a cluster command keeps trying while its slot has no reachable master (a master died and
 * its replica is not promoted yet): the cluster client retries every `retryDelayOnFailover` ms, at
 * most `maxRedirections` times. Request paths give up within about the time a failover takes with a
 * short node timeout, and answer 503; workers wait out a longer one.
 */
const CLUSTER_BY_ROLE: Record<RedisRole, ClusterOptions> = {
  // While the client has no cluster at all (every node lost), request paths fail at once instead of
  // queueing, as a server's connection does after its one retry.
  requests: { retryDelayOnFailover: 100, maxRedirections: 16, enableOfflineQueue: false },
  worker: { retryDelayOnFailover: 200, maxRedirections: 100 },
  subscriber: {},
};

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

/** BullMQ's minimum; queue objects skip its per-object check, so each process checks once at start. */
const MINIMUM_REDIS_VERSION = [5, 0, 0];

export async function assertRedisVersion(redis: RedisClient): Promise<void> {
  const info = await redis.info('server');
  const version = /redis_version:([\d.]+)/.exec(info)?.[1] ?? '0';
  const parts = version.split('.').map(Number);
  for (const [index, minimum] of MINIMUM_REDIS_VERSION.entries()) {
    const part = parts[index] ?? 0;
    if (part > minimum) return;
    if (part < minimum)
      throw new Error(`Redis ${version} is too old: ${MINIMUM_REDIS_VERSION.join('.')} or later is needed`);
  }
}

/**
 * Resolves once the cluster client is ready (every slot served); rejects after `timeoutMs` with what
 * went wrong: the client's last error, and the last node's (a refused connection, a server without
 * cluster mode).
 */
function ready(cluster: Cluster, timeoutMs: number): Promise<void> {
  if (cluster.status === 'ready') return Promise.resolve();
  let lastError: Error | undefined;
  let lastNodeError: Error | undefined;
  const onError = (error: Error): void => {
    lastError = error;
  };
  const onNodeError = (error: Error): void => {
    lastNodeError = error;
  };
  cluster.on('error', onError);
  cluster.on('node error', onNodeError);
  return new Promise<void>((resolve, reject) => {
    const settle = (): void => {
      clearTimeout(timer);
      cluster.off('error', onError);
      cluster.off('node error', onNodeError);
    };
    const timer = setTimeout(() => {
      settle();
      const messages = [lastError?.message, lastNodeError?.message].filter((text) => text !== undefined);
      reject(new Error(messages.length > 0 ? messages.join(' ') : `no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    cluster.once('ready', () => {
      settle();
      resolve();
    });
  });
}

/** Redis did not answer at start-up: the message says where the process looked and what went wrong. */
export class RedisUnreachable extends Error {
  constructor(address: RedisAddress, cause: unknown) {
    super(`${describeRedis(address)} is unreachable: ${failureReason(cause)}`);
    this.name = 'RedisUnreachable';
  }
}

/**
 * Start-up: waits until Redis answers (a cluster: until every slot is served) and is recent enough,
 * trying again for a while, as a process started together with Redis must; throws `RedisUnreachable`
 * once the attempts are spent.
 */
export async function waitForRedis(
  address: RedisAddress,
  options: {
    log: { warn: (obj: object, msg: string) => void; debug?: (obj: object, msg: string) => void };
    attempts?: number;
    timeoutMs?: number;
  },
): Promise<void> {
  try {
    await retryUntilReady(
      async () => {
        const redis = createRedis(address, 'requests');
        // The command's own error only says it ran out of retries; the connection's says why.
        let connectionError: Error | undefined;
        redis.on('error', (error: Error) => (connectionError = error));
        try {
          // A cluster client queues commands until every slot is served, however long that takes; a
          // server's fails them after one retry.
          if (redis instanceof Cluster) await ready(redis, options.timeoutMs ?? 5_000);
          await assertRedisVersion(redis).catch((error: unknown) => {
            throw redis instanceof Cluster ? error : (connectionError ?? error);
          });
        } finally {
          redis.disconnect();
        }
      },
      {
        log: options.log,
        what: describeRedis(address),
        hint:
          "Start one: `docker compose up -d redis` (docker-compose.yml), or Debian's " +
          '`apt-get install redis-server`; or set REDIS_URL (a cluster: REDIS_CLUSTER_NODES).',
        attempts: options.attempts,
      },
    );
  } catch (error) {
    throw new RedisUnreachable(address, error);
  }
}

/** For a service's entry point: `waitForRedis`, and when Redis stays away, one line on stderr and exit code 1. */
export async function redisOrExit(
  address: RedisAddress,
  log: { warn: (obj: object, msg: string) => void; debug?: (obj: object, msg: string) => void },
): Promise<void> {
  try {
    await waitForRedis(address, { log });
  } catch (error) {
    if (!(error instanceof RedisUnreachable)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

/**
 * A Lua script sent by its SHA1 (EVALSHA), its source only when Redis does not have it yet (after a
 * restart or SCRIPT FLUSH). EVAL would send and hash the whole source with every call, and these run
 * for every event of every round. (ioredis's defineCommand does the same, but only on connections
 * it was called on; this works on any.) On a Redis Cluster every key of one call must hash to one
 * slot: the scripts here touch only keys of one event, which share its hash tag.
 */
export class LuaScript {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(
    redis: RedisClient,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}
