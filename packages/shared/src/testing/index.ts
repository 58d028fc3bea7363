import { randomBytes, randomUUID } from 'node:crypto';
import { loadConfig, type Config } from '../config.js';
import type { NewPurchaseRow } from '../db/database.js';
import { dropDatabase } from '../db/connection.js';
import { prepareDatabase } from '../db/migrate.js';
import { createRedis } from '../queue/redis.js';

/**
 * Test isolation: every test file gets a database and a Redis key prefix of its own, made from the
 * machine's real servers, and removes both afterwards.
 */
export interface TestEnvironment {
  readonly config: Config;
  destroy(): Promise<void>;
}

const BASE_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export async function createTestEnvironment(
  overrides: Record<string, string> = {},
): Promise<TestEnvironment> {
  const runId = `${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const databaseUrl = new URL(BASE_DATABASE_URL);
  databaseUrl.pathname = `/ticketing_test_${runId}`;
  const config = loadConfig({
    DATABASE_URL: databaseUrl.toString(),
    REDIS_URL,
    QUEUE_PREFIX: `test_${runId}`,
    LOG_LEVEL: 'silent',
    RECONCILE_INTERVAL_MS: '0',
    ...overrides,
  });
  await prepareDatabase(config.databaseUrl);
  return {
    config,
    async destroy() {
      await dropDatabase(config.databaseUrl);
      await deleteKeys(config.redisUrl, `${config.queuePrefix}:*`);
    },
  };
}

export async function deleteKeys(redisUrl: string, pattern: string): Promise<void> {
  const redis = createRedis(redisUrl, 'requests');
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
}

/** A purchase as the api stores it on acceptance: queued, no key, no cancellation. */
export function newPurchaseRow(
  eventId: string,
  userId: string,
  quantity = 1,
): NewPurchaseRow & { idempotencyKey: string | null } {
  return {
    id: randomUUID(),
    eventId,
    userId,
    quantity,
    joinWaitlist: true,
    reason: null,
    idempotencyKey: null,
    cancelRequestedAt: null,
    cancelSeq: null,
    processedAt: null,
  };
}

export * from './processes.js';
export * from '../index.js';
export * from './webhook-receiver.js';
