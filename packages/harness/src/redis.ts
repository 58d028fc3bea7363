import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { runId } from './run-id.js';
import { RedisProcess } from './redis-process.js';
import { freePort } from './wait.js';

/**
 * Where a system keeps its queues: a key prefix on the machine's Redis, a Redis of its own, or a
 * private Redis Cluster (`RedisCluster`). A service needs only `env()`, so each kind fits in without
 * changing the callers.
 */
export interface RedisTarget {
  readonly url: string;
  /** Every key of the system starts with `${keyPrefix}:` (the services' QUEUE_PREFIX). */
  readonly keyPrefix: string;
  /** The settings that point a service at this Redis and prefix. */
  env(): Record<string, string>;
  /** Deletes every key of the system, as a Redis that lost its data would. */
  deleteKeys(): Promise<void>;
  /** Removes what the system left (and, for a private server, the server). */
  destroy(): Promise<void>;
}

/** The machine's Redis, which tests share (never flushed or reconfigured). */
const SHARED_SERVER_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Deletes the keys matching `pattern`, a batch at a time (SCAN, never KEYS, on a shared server). */
async function deleteKeys(redisUrl: string, pattern: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on('error', () => {});
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

const redisEnv = (url: string, keyPrefix: string): Record<string, string> => ({
  REDIS_URL: url,
  QUEUE_PREFIX: keyPrefix,
});

/** A key prefix of the run's own on the machine's Redis (TEST_REDIS_URL names it); `destroy` deletes its keys. */
export function sharedRedisPrefix(keyPrefix = `test_${runId()}`): RedisTarget {
  const url = SHARED_SERVER_URL;
  const deletePrefixKeys = () => deleteKeys(url, `${keyPrefix}:*`);
  return {
    url,
    keyPrefix,
    env: () => redisEnv(url, keyPrefix),
    deleteKeys: deletePrefixKeys,
    destroy: deletePrefixKeys,
  };
}

/**
 * A Redis server of the run's own on its own port, without persistence (killing it loses every key,
 * the worst a Redis restart can do), configured as BullMQ asks for production (no eviction). Its
 * memory and CPU are the system's alone.
 */
export class RedisServer implements RedisTarget {
  private readonly server: RedisProcess;
  readonly url: string;

  private constructor(
    readonly port: number,
    private readonly dir: string,
    readonly keyPrefix: string,
  ) {
    this.url = `redis://127.0.0.1:${port}`;
    this.server = new RedisProcess(port, [
      ...['--save', '', '--appendonly', 'no'],
      ...['--dir', dir, '--maxmemory-policy', 'noeviction'],
    ]);
  }

  static async start(options: { keyPrefix: string }): Promise<RedisServer> {
    const dir = await mkdtemp(join(tmpdir(), 'ticketing-redis-'));
    const server = new RedisServer(await freePort(), dir, options.keyPrefix);
    try {
      await server.start();
    } catch (error) {
      await server.destroy();
      throw error;
    }
    return server;
  }

  env(): Record<string, string> {
    return redisEnv(this.url, this.keyPrefix);
  }

  deleteKeys(): Promise<void> {
    return deleteKeys(this.url, `${this.keyPrefix}:*`);
  }

  /** The server process (for CPU accounting); undefined while it is down. */
  get pid(): number | undefined {
    return this.server.pid;
  }

  /** Starts the server (again, after `kill`: empty) and waits until it answers. */
  start(): Promise<void> {
    return this.server.start();
  }

  cli(...args: string[]): Promise<string> {
    return this.server.cli(...args);
  }

  /** kill -9: gone with everything it held. */
  kill(): Promise<void> {
    return this.server.kill();
  }

  /** A crash and a start: the server comes back empty. */
  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  /** Memory Redis holds for its data (INFO used_memory), in MB to a tenth. */
  async usedMemoryMb(): Promise<number> {
    const used = /used_memory:(\d+)/.exec(await this.cli('info', 'memory'))?.[1] ?? '0';
    return Math.round((Number(used) / 1024 / 1024) * 10) / 10;
  }

  async destroy(): Promise<void> {
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }
}
