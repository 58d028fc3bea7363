import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import * as initial from './migrations/0001-initial.js';
import * as pendingCancellations from './migrations/0002-pending-cancellations.js';
import * as leanerPurchaseIndexes from './migrations/0003-leaner-purchase-indexes.js';
import * as waitlistLineNumbers from './migrations/0004-waitlist-line-numbers.js';
import * as webhooks from './migrations/0005-webhooks.js';
import * as checkoutHolds from './migrations/0006-checkout-holds.js';
import * as onSale from './migrations/0007-on-sale.js';
import * as runningASale from './migrations/0008-running-a-sale.js';
import { createDb, ensureDatabase } from './connection.js';
import type { Database } from './database.js';
import { formatAddress, parseDatabaseUrl } from './postgres-hosts.js';
import { failureReason, retryUntilReady } from '../retry-until-ready.js';

// Listed explicitly rather than read from a folder, so they work the same under tsx, vitest and bundlers.
export const migrations: Readonly<Record<string, Migration>> = {
  '0001-initial': initial,
  '0002-pending-cancellations': pendingCancellations,
  '0003-leaner-purchase-indexes': leanerPurchaseIndexes,
  '0004-waitlist-line-numbers': waitlistLineNumbers,
  '0005-webhooks': webhooks,
  '0006-checkout-holds': checkoutHolds,
  '0007-on-sale': onSale,
  '0008-running-a-sale': runningASale,
};

const provider: MigrationProvider = { getMigrations: () => Promise.resolve(migrations) };

/** Brings the schema up to date; safe to run from several processes at once (Kysely takes a lock). */
export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? [])
    .filter((result) => result.status === 'Success')
    .map((result) => result.migrationName);
}

/** Creates the database if missing and migrates it: what every process does before it serves. */
export async function prepareDatabase(databaseUrl: string): Promise<string[]> {
  await ensureDatabase(databaseUrl);
  const db = createDb(databaseUrl, { poolSize: 1 });
  try {
    return await migrateToLatest(db);
  } finally {
    await db.destroy();
  }
}

/** Where the Postgres of a URL is, for messages: its hosts and ports, never its password. */
export const describePostgres = (databaseUrl: string): string =>
  `Postgres at ${parseDatabaseUrl(databaseUrl).hosts.map(formatAddress).join(',')}`;

/**
 * For a service's entry point: `prepareDatabase`, waiting for Postgres with one line saying how to get
 * one; when it stays away, one line on stderr and exit code 1 (as for Redis: `redisOrExit`).
 */
export async function prepareDatabaseOrExit(
  databaseUrl: string,
  log: { warn: (obj: object, msg: string) => void; debug?: (obj: object, msg: string) => void },
): Promise<void> {
  const what = describePostgres(databaseUrl);
  try {
    await retryUntilReady(() => prepareDatabase(databaseUrl), {
      log,
      what,
      hint:
        "Start one: `docker compose up -d postgres` (docker-compose.yml), or Debian's " +
        '`apt-get install postgresql`; or set DATABASE_URL to yours.',
    });
  } catch (error) {
    process.stderr.write(`${what} is unreachable: ${failureReason(error)}\n`);
    process.exit(1);
  }
}
