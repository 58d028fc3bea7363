import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import * as initial from './migrations/0001-initial.js';
import * as pendingCancellations from './migrations/0002-pending-cancellations.js';
import * as leanerPurchaseIndexes from './migrations/0003-leaner-purchase-indexes.js';
import * as waitlistLineNumbers from './migrations/0004-waitlist-line-numbers.js';
import * as webhooks from './migrations/0005-webhooks.js';
import * as checkoutHolds from './migrations/0006-checkout-holds.js';
import { createDb, ensureDatabase } from './connection.js';
import type { Database } from './database.js';

// Listed explicitly rather than read from a folder, so they work the same under tsx, vitest and bundlers.
export const migrations: Readonly<Record<string, Migration>> = {
  '0001-initial': initial,
  '0002-pending-cancellations': pendingCancellations,
  '0003-leaner-purchase-indexes': leanerPurchaseIndexes,
  '0004-waitlist-line-numbers': waitlistLineNumbers,
  '0005-webhooks': webhooks,
  '0006-checkout-holds': checkoutHolds,
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

/** Why a connection failed, in a few words: the message, or the code (Node's refused connections to
 * every address of a name are an AggregateError with neither). */
export function failureReason(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return failureReason(error.errors[0]);
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return error.message !== '' ? error.message : typeof code === 'string' ? code : error.name;
  }
  return String(error);
}

/**
 * Start-up may race the store (compose starts everything at once), or a newcomer may not have one
 * yet: try again for a while. The first failure is one line for a person (what is missing, why, and
 * `hint`: how to get one), the attempts after it are quiet (debug); the last failure is thrown.
 */
export async function retryUntilReady<T>(
  task: () => Promise<T>,
  options: {
    log: { warn: (obj: object, msg: string) => void; debug?: (obj: object, msg: string) => void };
    what: string;
    hint?: string;
    attempts?: number;
    delayMs?: number;
  },
): Promise<T> {
  const attempts = options.attempts ?? 30;
  const delayMs = options.delayMs ?? 1_000;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await task();
    } catch (err) {
      if (attempt >= attempts) throw err;
      if (attempt === 1) {
        const waiting = `waiting up to ${Math.round((attempts * delayMs) / 1000)} s`;
        const hint = options.hint === undefined ? '' : ` ${options.hint}`;
        options.log.warn({}, `${options.what} is not answering (${failureReason(err)}); ${waiting}.${hint}`);
      } else options.log.debug?.({ err, attempt }, `${options.what} not ready, retrying`);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

/** Where the Postgres of a URL is, for messages: its host and port, never its password. */
export const describePostgres = (databaseUrl: string): string => `Postgres at ${new URL(databaseUrl).host}`;

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
