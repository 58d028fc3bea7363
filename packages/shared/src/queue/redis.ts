import { createHash } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { countConnectionError } from '../connection-errors.js';

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

export function createRedis(redisUrl: string, role: RedisRole, name?: string): Redis {
  const common: RedisOptions = {
    connectionName: name,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
  };
  const byRole: Record<RedisRole, RedisOptions> = {
    requests: {
      maxRetriesPerRequest: 1,
      connectTimeout: 2_000,
      commandTimeout: 5_000,
      enableAutoPipelining: true,
    },
    worker: { maxRetriesPerRequest: null, enableAutoPipelining: true },
    subscriber: { maxRetriesPerRequest: null },
  };
  const redis = new Redis(redisUrl, { ...common, ...byRole[role] });
  // Connection errors surface on the commands that need the connection; ioredis reconnects by itself.
  redis.on('error', () => countConnectionError('redis'));
  return redis;
}

/** BullMQ's minimum; queue objects skip its per-object check, so each process checks once at start. */
const MINIMUM_REDIS_VERSION = [5, 0, 0];

export async function assertRedisVersion(redis: Redis): Promise<void> {
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
 * A Lua script sent by its SHA1 (EVALSHA), its source only when Redis does not have it yet (after a
 * restart or SCRIPT FLUSH). EVAL would send and hash the whole source with every call, and these run
 * for every event of every round. (ioredis's defineCommand does the same, but only on connections
 * it was called on; this works on any.)
 */
export class LuaScript {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}
