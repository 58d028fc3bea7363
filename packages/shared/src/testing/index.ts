import { randomUUID } from 'node:crypto';
import {
  runId,
  sharedPostgresDatabase,
  sharedRedisPrefix,
  sleep,
  type PostgresTarget,
  type RedisTarget,
} from '@ticketing/harness';
import type { Insertable, Kysely } from 'kysely';
import { afterAll } from 'vitest';
import { loadConfig, type Config } from '../config.js';
import { createDb } from '../db/connection.js';
import type { Database, EventRow, EventsTable, PurchaseRow } from '../db/database.js';
import { prepareDatabase } from '../db/migrate.js';
import {
  insertPurchases,
  outcomeId,
  storedPurchaseRow,
  type AcceptedPurchase,
} from '../db/purchase-insert.js';

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

/**
 * A test file's own database and key prefix (`createTestEnvironment(env)`), removed after the file's
 * tests, for files that start processes on them rather than query them. Awaited at the top of the
 * file, like `useTestDatabase`.
 */
export async function useTestEnvironment(env: Record<string, string> = {}): Promise<TestEnvironment> {
  const environment = await createTestEnvironment(env);
  afterAll(() => environment.destroy());
  return environment;
}

/** A test file's own database (see `useTestDatabase`): its environment and a pool on it. */
export interface TestDatabase {
  readonly environment: TestEnvironment;
  readonly config: Config;
  readonly db: Kysely<Database>;
  /**
   * Another pool on the file's database, removed with it: a connection of its own for a worker or a
   * watcher, so that the test's own queries never wait behind theirs.
   */
  newPool(poolSize: number): Kysely<Database>;
}

/**
 * The one set-up of a test file that works on the database: a migrated database and key prefix of its
 * own (`createTestEnvironment(env)`) and a pool of `poolSize` connections on it, both removed after
 * the file's tests (an `afterAll` it registers; hooks run in reverse, so the file's own `afterAll`s,
 * registered later, stop what uses the pool first). Awaited at the top of the file, so that the
 * file's helpers can use `db` as a plain value:
 *
 *     const { db, environment } = await useTestDatabase({ poolSize: 8 });
 */
export async function useTestDatabase(options: {
  /** Connections in `db`: as many as the file's tests run queries at once. */
  readonly poolSize: number;
  /** Settings beyond the test defaults, as environment variables (`RECONCILE_AFTER_MS: '0'`). */
  readonly env?: Record<string, string>;
}): Promise<TestDatabase> {
  const environment = await useTestEnvironment(options.env);
  const pools: Kysely<Database>[] = [];
  const newPool = (poolSize: number): Kysely<Database> => {
    const pool = createDb(environment.config.databaseUrl, { poolSize });
    pools.push(pool);
    return pool;
  };
  const db = newPool(options.poolSize);
  // Registered after the environment's: hooks run in reverse, so the pools end before it goes.
  afterAll(async () => {
    await Promise.all(pools.map((pool) => pool.destroy()));
  });
  return { environment, config: environment.config, db, newPool };
}

/**
 * An empty database of the test file's own, not migrated, for the tests of the migrations themselves;
 * removed after the file's tests. Awaited at the top of the file, like `useTestDatabase`.
 */
export async function useUnmigratedDatabase(options: {
  readonly poolSize: number;
}): Promise<Kysely<Database>> {
  const postgres = await sharedPostgresDatabase(`ticketing_test_${runId()}`);
  const db = createDb(postgres.databaseUrl, { poolSize: options.poolSize });
  afterAll(async () => {
    await db.destroy();
    await postgres.destroy();
  });
  return db;
}

/** An event with a test's settings and defaults for the rest (10 tickets of 1.00 EUR, up to 10 each). */
export async function insertEvent(
  db: Kysely<Database>,
  overrides: Partial<Insertable<EventsTable>> = {},
): Promise<EventRow> {
  return db
    .insertInto('events')
    .values({
      name: 'Test event',
      totalTickets: 10,
      priceCents: 100,
      currency: 'EUR',
      maxPerPurchase: 10,
      ...overrides,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** A purchase request as the api accepts it: one ticket, joining the waiting list, no key. */
export function newPurchaseRow(eventId: string, userId: string, quantity = 1): AcceptedPurchase {
  return {
    id: randomUUID(),
    eventId,
    userId,
    quantity,
    joinWaitlist: true,
    idempotencyKey: null,
    drawKey: null,
  };
}

/**
 * Stores purchases with the api's own statement (`insertPurchases`: one transaction holding the
 * accepting lock of each of their events, numbered in the order given), and returns their rows.
 */
export async function insertAcceptedPurchases(
  db: Kysely<Database>,
  purchases: readonly AcceptedPurchase[],
): Promise<PurchaseRow[]> {
  const inserted = await db.transaction().execute((tx) => insertPurchases(tx, purchases));
  const stored = new Map(inserted.map((outcome) => [outcomeId(outcome), outcome]));
  return purchases.flatMap((purchase) => {
    const outcome = stored.get(purchase.id);
    return outcome?.kind === 'stored' ? [storedPurchaseRow(purchase, outcome.row)] : [];
  });
}

/** Stores one purchase as `insertAcceptedPurchases` does; fails when its idempotency key is taken. */
export async function insertAcceptedPurchase(
  db: Kysely<Database>,
  purchase: AcceptedPurchase,
): Promise<PurchaseRow> {
  const [row] = await insertAcceptedPurchases(db, [purchase]);
  if (row === undefined) throw new Error(`purchase ${purchase.id} was not stored: its key is taken`);
  return row;
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
