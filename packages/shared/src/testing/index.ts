import { randomUUID } from 'node:crypto';
import {
  runId,
  sharedPostgresDatabase,
  sharedRedisPrefix,
  sleep,
  type PostgresTarget,
  type RedisTarget,
} from '@ticketing/harness';
import type { Kysely } from 'kysely';
import { loadConfig, type Config } from '../config.js';
import { holdAcceptingLocks } from '../db/accepting-locks.js';
import type { Database, NewPurchaseRow, PurchaseRow } from '../db/database.js';
import { prepareDatabase } from '../db/migrate.js';

/**
 * Test isolation for tests that run a service in-process: every test file gets a migrated database
 * and a Redis key prefix of its own on the machine's servers (the harness's shared targets), and
 * removes both afterwards.
 */
export interface TestEnvironment {
  readonly config: Config;
  readonly postgres: PostgresTarget;
  readonly redis: RedisTarget;
  destroy(): Promise<void>;
}

export async function createTestEnvironment(
  overrides: Record<string, string> = {},
): Promise<TestEnvironment> {
  const id = runId();
  const postgres = await sharedPostgresDatabase(`ticketing_test_${id}`);
  const redis = sharedRedisPrefix(`test_${id}`);
  const destroy = async (): Promise<void> => {
    await postgres.destroy();
    await redis.destroy();
  };
  try {
    const config = loadConfig({
      ...postgres.env(),
      ...redis.env(),
      LOG_LEVEL: 'silent',
      RECONCILE_INTERVAL_MS: '0',
      ...overrides,
    });
    await prepareDatabase(config.databaseUrl);
    return { config, postgres, redis, destroy };
  } catch (error) {
    await destroy();
    throw error;
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

/**
 * Stores purchases the way the api accepts a batch of them: one transaction holding the accepting
 * lock of each of their events, numbered in the order given.
 */
export async function insertAcceptedPurchases(
  db: Kysely<Database>,
  purchases: readonly NewPurchaseRow[],
): Promise<PurchaseRow[]> {
  return db.transaction().execute(async (tx) => {
    await holdAcceptingLocks(
      tx,
      purchases.map((purchase) => purchase.eventId),
    );
    return tx
      .insertInto('purchases')
      .values([...purchases])
      .returningAll()
      .execute();
  });
}

/** Waits until no purchase of the event is queued or pre-queued any more (every one decided). */
export async function waitUntilNothingQueued(
  db: Kysely<Database>,
  eventId: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const queued = await db
      .selectFrom('purchases')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('eventId', '=', eventId)
      .where('status', 'in', ['queued', 'prequeued'])
      .executeTakeFirstOrThrow();
    if (queued.count === 0) return;
    await sleep(200);
  }
  throw new Error('purchases were still queued after the timeout');
}

export * from '../index.js';
export * from './webhook-receiver.js';
