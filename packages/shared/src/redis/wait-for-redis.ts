import { Cluster } from 'ioredis';
import { failureReason, retryUntilReady } from '../retry-until-ready.js';
import { createRedis, describeRedis, type RedisAddress } from './client.js';
import { assertRedisVersion } from './version.js';

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
