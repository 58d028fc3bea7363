import type { RedisClient } from './client.js';

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
