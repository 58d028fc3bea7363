import { CamelCasePlugin, Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely';
import pg from 'pg';
import { countConnectionError } from '../connection-errors.js';
import type { Database } from './database.js';
import {
  formatAddress,
  hostSelectorFor,
  NoSuitableHostError,
  parseDatabaseUrl,
  sessionFits,
  type PostgresHostSelector,
} from './postgres-hosts.js';

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

const CONNECT_TIMEOUT_MS = 5_000;

/** SQLSTATE read_only_sql_transaction: a write reached a server that is (now) a standby. */
const READ_ONLY_SQL_TRANSACTION = '25006';

/**
 * A client that connects to the host the selector picks, not the one in its configuration, and checks
 * what the server reports about itself at start-up (in_hot_standby and default_transaction_read_only,
 * Postgres 14 on): a server demoted since it was picked is refused like an unreachable one, so the
 * selector looks again and no session ever writes to a standby.
 */
function selectingClient(selector: PostgresHostSelector): typeof pg.Client {
  return class SelectingClient extends pg.Client {
    private readonly reported = new Map<string, string>();

    constructor(config?: pg.ClientConfig) {
      super(config);
      this.connection.on('parameterStatus', (message: { parameterName: string; parameterValue: string }) =>
        this.reported.set(message.parameterName, message.parameterValue),
      );
    }

    // pg-pool connects with a callback, Kysely's and our own code with the promise: both go through here.
    override connect(): Promise<pg.Client>;
    override connect(callback: (err: Error | null, client?: pg.Client) => void): void;
    override connect(callback?: (err: Error | null, client?: pg.Client) => void): Promise<pg.Client> | void {
      const connected = this.connectToSelected();
      if (callback === undefined) return connected;
      connected.then(
        (client) => callback(null, client),
        (error: Error) => callback(error),
      );
    }

    private async connectToSelected(): Promise<pg.Client> {
      // Until the pool has the client (and listens to it), a connection lost while this connects or
      // turns an unfit host away must not be an unhandled 'error' event: it fails the connect instead.
      const ignore = (): void => {};
      this.on('error', ignore);
      try {
        return await this.connectSelected();
      } finally {
        this.off('error', ignore);
      }
    }

    private async connectSelected(): Promise<pg.Client> {
      const address = await selector.select();
      // With one host, the configured one (which may be a Unix socket) is the one.
      if (selector.url.hosts.length > 1) {
        this.host = address.host;
        this.port = address.port;
      }
      try {
        await super.connect();
      } catch (error) {
        selector.reject(address);
        throw error;
      }
      const inHotStandby = this.reported.get('in_hot_standby');
      const readOnly = this.reported.get('default_transaction_read_only');
      if (
        inHotStandby !== undefined &&
        !sessionFits(selector.url.targetSessionAttrs, {
          inHotStandby: inHotStandby === 'on',
          defaultTransactionReadOnly: readOnly === 'on',
        })
      ) {
        selector.reject(address);
        // Whatever this connection says from now on, nobody is listening any more.
        this.on('error', () => {});
        await this.end().catch(() => undefined);
        throw new NoSuitableHostError(
          `Postgres at ${formatAddress(address)} no longer takes a ${selector.url.targetSessionAttrs} session`,
        );
      }
      return this;
    }
  };
}

/**
 * A node-postgres pool on `databaseUrl`, which may list several hosts with libpq's
 * `target_session_attrs` (postgres-hosts.ts): every new connection goes to the host that fits now, so
 * after a failover the pool follows the new primary. For code that speaks pg itself (audits, tools).
 */
export function createPgPool(
  databaseUrl: string,
  config: Omit<pg.PoolConfig, 'Client' | 'connectionString'> = {},
): pg.Pool {
  const selector = hostSelectorFor(databaseUrl, CONNECT_TIMEOUT_MS);
  return new pg.Pool({
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    ...config,
    Client: selectingClient(selector),
    connectionString: selector.url.urlFor(selector.url.hosts[0] ?? { host: 'localhost', port: 5432 }),
  });
}

/**
 * Postgres `bigint` counts and sequence numbers stay far below 2^53, so they are read as numbers.
 * `databaseUrl` may list several hosts (see createPgPool).
 */
export function createDb(databaseUrl: string, options: DbOptions = {}): Kysely<Database> {
  const selector = hostSelectorFor(databaseUrl, CONNECT_TIMEOUT_MS);
  const pool = createPgPool(databaseUrl, {
    max: options.poolSize ?? 10,
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
  const guarded = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  const counted: PostgresPool = {
    connect: () =>
      pool.connect().then(
        (client) => {
          let wrapped = guarded.get(client);
          if (wrapped === undefined) {
            wrapped = writesGuard(client, selector);
            guarded.set(client, wrapped);
          }
          return wrapped;
        },
        (error: unknown) => {
          lost();
          throw error;
        },
      ),
    end: () => pool.end(),
  };
  return new Kysely<Database>({
    dialect: new PostgresDialect({ pool: counted }),
    plugins: [new CamelCasePlugin()],
  });
}

/**
 * A pooled session whose server refused a write as read-only (25006) sits on a demoted primary: the
 * selector looks again and the session is discarded when released instead of going back to the pool.
 */
function writesGuard(client: pg.PoolClient, selector: PostgresHostSelector): PostgresPoolClient {
  let demoted = false;
  const watch = (error: unknown): void => {
    if (!isPgError(error, READ_ONLY_SQL_TRANSACTION)) return;
    demoted = true;
    selector.reject({ host: client.host, port: client.port });
  };
  return {
    query: ((...args: Parameters<PostgresPoolClient['query']>) => {
      // The query's own promise still rejects for its caller; this only looks at why.
      const result = (client.query as (...a: unknown[]) => unknown)(...args);
      if (result instanceof Promise) result.catch(watch);
      return result;
    }) as PostgresPoolClient['query'],
    release: (destroy?: boolean) => client.release(destroy === true || demoted),
  };
}

/** Runs `work` on a connection to the `postgres` database of the host `databaseUrl` selects now. */
async function onSelectedServer<T>(databaseUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const selector = hostSelectorFor(databaseUrl, CONNECT_TIMEOUT_MS);
  const address = await selector.select();
  const client = new pg.Client({
    connectionString: selector.url.urlFor(address, 'postgres'),
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    selector.reject(address);
    throw error;
  }
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Creates the database named in the URL when it does not exist yet (fresh machines, test runs). */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const name = parseDatabaseUrl(databaseUrl).database;
  await onSelectedServer(databaseUrl, async (client) => {
    const existing = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (existing.rowCount === 0) {
      await client.query(`create database ${pg.escapeIdentifier(name)}`).catch((error: unknown) => {
        // Another process created it between our check and our create: that is what we wanted.
        if (!isPgError(error, '42P04') && !isPgError(error, '23505')) throw error;
      });
    }
  });
}

export async function dropDatabase(databaseUrl: string): Promise<void> {
  const name = parseDatabaseUrl(databaseUrl).database;
  await onSelectedServer(databaseUrl, async (client) => {
    await client.query(`drop database if exists ${pg.escapeIdentifier(name)} with (force)`);
  });
}

export function isPgError(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === code;
}
