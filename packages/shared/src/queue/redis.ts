import { Redis, type RedisOptions } from 'ioredis';

/**
 * `blocking` connections serve BullMQ workers, which must wait on Redis indefinitely; the others serve
 * request paths, which must fail fast (and let the api answer 503) rather than queue commands forever.
 */
export function createRedis(redisUrl: string, options: { blocking?: boolean; name?: string } = {}): Redis {
  const common: RedisOptions = {
    connectionName: options.name,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
  };
  const redis = options.blocking
    ? new Redis(redisUrl, { ...common, maxRetriesPerRequest: null })
    : new Redis(redisUrl, {
        ...common,
        maxRetriesPerRequest: 1,
        connectTimeout: 2_000,
        commandTimeout: 5_000,
      });
  // Connection errors surface on the commands that need the connection; ioredis reconnects by itself.
  redis.on('error', () => {});
  return redis;
}

/** Channel on which workers announce purchases whose state changed, to wake long-polling requests. */
export const settledChannel = (prefix: string): string => `${prefix}:purchases:settled`;
