import { CamelCasePlugin, Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { countConnectionError } from '../connection-errors.js';
import type { Database } from './database.js';

const INT8_OID = 20;

export interface DbOptions {
  readonly poolSize?: number;
  /**
   * Postgres ends a session that sits idle inside a transaction this long (0 = never). A process that
   * freezes mid-transaction (paused, swapped out, partitioned) would otherwise hold its row locks, and
   * with them the event's whole sale, for as long as it stays frozen.
   */
  readonly idleInTransactionTimeoutMs?: number;
}

/** Postgres `bigint` counts and sequence numbers stay far below 2^53, so they are read as numbers. */
export function createDb(databaseUrl: string, options: DbOptions = {}): Kysely<Database> {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 5_000,
    ...(options.idleInTransactionTimeoutMs
      ? { idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs }
      : {}),
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID
          ? (value: string) => Number(value)
          : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  const lost = (): void => countConnectionError('postgres');
  // An idle client whose server went away must not crash the process; the next query reconnects.
  pool.on('error', lost);
  // Nor may one that is checked out (inside a transaction, between two statements) when Postgres
  // restarts: pg then emits 'error' on the client itself, which the pool only listens to while the
  // client is idle. The loss still fails the transaction's next query, and the pool discards the client.
  pool.on('connect', (client) => client.on('error', lost));
  // Kysely takes a connection for each query or transaction: a refused one is counted on its way.
  const counted = {
    connect: () =>
      pool.connect().catch((error: unknown) => {
        lost();
        throw error;
      }),
    end: () => pool.end(),
  };
  return new Kysely<Database>({
    dialect: new PostgresDialect({ pool: counted }),
    plugins: [new CamelCasePlugin()],
  });
}

/** Creates the database named in the URL when it does not exist yet (fresh machines, test runs). */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const target = new URL(databaseUrl);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const existing = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (existing.rowCount === 0) {
      await client.query(`create database ${pg.escapeIdentifier(name)}`).catch((error: unknown) => {
        // Another process created it between our check and our create: that is what we wanted.
        if (!isPgError(error, '42P04') && !isPgError(error, '23505')) throw error;
      });
    }
  } finally {
    await client.end();
  }
}

export async function dropDatabase(databaseUrl: string): Promise<void> {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`drop database if exists ${pg.escapeIdentifier(name)} with (force)`);
  } finally {
    await client.end();
  }
}

export function isPgError(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === code;
}
