import { describe, expect, it } from 'vitest';
import { freePort } from '@ticketing/harness';
import { loadConfig } from '../src/config.js';
import { describeRedis } from '../src/redis/client.js';
import { RedisUnreachable, waitForRedis } from '../src/redis/wait-for-redis.js';

const quiet = { warn: () => undefined };

describe('where Redis is', () => {
  it('when the settings name cluster nodes, then messages name the cluster, else the server', () => {
    expect(describeRedis(loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:7000,10.0.0.2:7000' }))).toBe(
      'the Redis Cluster at 10.0.0.1:7000,10.0.0.2:7000',
    );
    expect(describeRedis(loadConfig({ REDIS_URL: 'redis://:secret@cache.internal:6380' }))).toBe(
      'Redis at cache.internal:6380',
    );
  });

  it('when no cluster node answers at start-up, then the error says where it looked and why, in one line', async () => {
    const port = await freePort();
    const config = loadConfig({ REDIS_CLUSTER_NODES: `127.0.0.1:${port}` });
    const attempt = waitForRedis(config, { log: quiet, attempts: 1, timeoutMs: 1_000 });
    await expect(attempt).rejects.toThrow(RedisUnreachable);
    await expect(attempt).rejects.toThrow(
      new RegExp(`^the Redis Cluster at 127\\.0\\.0\\.1:${port} is unreachable: .+$`),
    );
  });

  it('when a cluster node is a Redis without cluster mode, then start-up fails naming it', async () => {
    const url = new URL(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
    const config = loadConfig({ REDIS_CLUSTER_NODES: `${url.hostname}:${url.port || '6379'}` });
    await expect(waitForRedis(config, { log: quiet, attempts: 1, timeoutMs: 1_000 })).rejects.toThrow(
      /^the Redis Cluster at .+ is unreachable: .*cluster support disabled/,
    );
  });

  it('when the one Redis answers, then start-up goes on', async () => {
    await expect(waitForRedis(loadConfig({}), { log: quiet, attempts: 1 })).resolves.toBeUndefined();
  });
});
