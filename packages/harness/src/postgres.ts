import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { processTree } from './process-stats.js';
import { runId } from './run-id.js';
import { freePort, waitFor } from './wait.js';

const run = promisify(execFile);

/** Where a system keeps its books: one database, on the machine's Postgres or on a cluster of its own. */
export interface PostgresTarget {
  readonly databaseUrl: string;
  /** The settings that point a service at this database. */
  env(): Record<string, string>;
  /** Pids of the Postgres backends connected to this database (for CPU accounting). */
  backendPids(): Promise<number[]>;
  /** Removes the database (and, for a private cluster, the cluster). */
  destroy(): Promise<void>;
}

/** The machine's Postgres, which tests and the bench share (never stopped or reconfigured). */
const SHARED_SERVER_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const withDatabase = (url: string, database: string): string => {
  const next = new URL(url);
  next.pathname = `/${database}`;
  return next.toString();
};

/** Runs `work` on a connection to the server's `postgres` database. */
async function onServer<T>(databaseUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: withDatabase(databaseUrl, 'postgres') });
  client.on('error', () => {});
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const databaseName = (databaseUrl: string): string =>
  decodeURIComponent(new URL(databaseUrl).pathname.slice(1));

async function createDatabase(databaseUrl: string): Promise<void> {
  await onServer(databaseUrl, (client) =>
    client.query(`create database ${pg.escapeIdentifier(databaseName(databaseUrl))}`),
  );
}

function backendPids(databaseUrl: string): Promise<number[]> {
  return onServer(databaseUrl, async (client) => {
    const { rows } = await client.query<{ pid: number }>(
      'select pid from pg_stat_activity where datname = $1',
      [databaseName(databaseUrl)],
    );
    return rows.map((row) => row.pid);
  });
}

/**
 * A database of the run's own on the machine's Postgres (TEST_DATABASE_URL names the server), created
 * empty: the services migrate it when they start. `destroy` drops it, connections and all.
 */
export async function sharedPostgresDatabase(name = `ticketing_test_${runId()}`): Promise<PostgresTarget> {
  const databaseUrl = withDatabase(SHARED_SERVER_URL, name);
  await createDatabase(databaseUrl);
  return {
    databaseUrl,
    env: () => ({ DATABASE_URL: databaseUrl }),
    backendPids: () => backendPids(databaseUrl),
    destroy: () =>
      onServer(databaseUrl, async (client) => {
        await client.query(`drop database if exists ${pg.escapeIdentifier(name)} with (force)`);
      }),
  };
}

async function postgresBin(): Promise<string> {
  const versions = (await readdir('/usr/lib/postgresql'))
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(b) - Number(a));
  if (versions[0] === undefined) throw new Error('No PostgreSQL server under /usr/lib/postgresql');
  return `/usr/lib/postgresql/${versions[0]}/bin`;
}

const isRoot = (): boolean => process.getuid?.() === 0;

/**
 * A throw-away Postgres cluster of the run's own (initdb into a temp dir, its own port), so it can be
 * stopped, crashed and restarted without touching the machine's Postgres. Postgres refuses to run as
 * root, so as root every command runs as the `postgres` OS user.
 */
export class PostgresCluster implements PostgresTarget {
  private constructor(
    private readonly bin: string,
    private readonly dir: string,
    readonly port: number,
    private readonly database: string,
  ) {}

  /** A temp dir the cluster's OS user owns. */
  private static async create(database: string): Promise<PostgresCluster> {
    const dir = await mkdtemp(join(tmpdir(), 'ticketing-pg-'));
    if (isRoot()) {
      const [uid, gid] = await Promise.all(
        ['-u', '-g'].map(async (flag) => Number((await run('id', [flag, 'postgres'])).stdout.trim())),
      );
      await chown(dir, uid ?? 0, gid ?? 0);
    }
    return new PostgresCluster(await postgresBin(), dir, await freePort(), database);
  }

  /** initdb, start, and create the system's database. */
  static async start(options: { database?: string } = {}): Promise<PostgresCluster> {
    const cluster = await PostgresCluster.create(options.database ?? 'ticketing');
    try {
      await cluster.pg('initdb', [
        '-D',
        cluster.dataDir,
        '-U',
        'postgres',
        '-A',
        'trust',
        '--no-sync',
        '-E',
        'UTF8',
      ]);
      await cluster.start();
      await createDatabase(cluster.databaseUrl);
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
    return cluster;
  }

  /**
   * A hot standby of `primary` (pg_basebackup -R: streaming replication, asynchronous), started; it
   * rejects writes until `promote`d.
   */
  static async standbyOf(primary: PostgresCluster): Promise<PostgresCluster> {
    const standby = await PostgresCluster.create(primary.database);
    try {
      await standby.pg('pg_basebackup', [
        '-D',
        standby.dataDir,
        '-h',
        '127.0.0.1',
        '-p',
        String(primary.port),
        '-U',
        'postgres',
        '-R',
        '-X',
        'stream',
        // A checkpoint now, not at the next scheduled one (minutes away).
        '-c',
        'fast',
        '--no-sync',
      ]);
      await standby.start();
    } catch (error) {
      await standby.destroy();
      throw error;
    }
    return standby;
  }

  /** Runs one statement on the cluster's `postgres` database (settings, checks). */
  async query<T extends pg.QueryResultRow>(text: string): Promise<T[]> {
    return onServer(this.databaseUrl, async (client) => (await client.query<T>(text)).rows);
  }

  /** Ends recovery: the standby takes writes. */
  async promote(): Promise<void> {
    await this.pg('pg_ctl', ['-D', this.dataDir, '-w', '-t', '60', 'promote']);
  }

  private get dataDir(): string {
    return join(this.dir, 'data');
  }

  url(database: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  get databaseUrl(): string {
    return this.url(this.database);
  }

  env(): Record<string, string> {
    return { DATABASE_URL: this.databaseUrl };
  }

  backendPids(): Promise<number[]> {
    return backendPids(this.databaseUrl);
  }

  private async pg(command: string, args: string[]): Promise<void> {
    const [file, argv] = isRoot()
      ? ['runuser', ['-u', 'postgres', '--', join(this.bin, command), ...args]]
      : [join(this.bin, command), args];
    await run(file, argv, { cwd: this.dir });
  }

  /**
   * fsync is off: runs kill processes, never the machine, so what Postgres wrote to the OS is kept
   * either way; an immediate stop or a kill still forces crash recovery from the WAL on the next start.
   */
  async start(): Promise<void> {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
    await this.pg('pg_ctl', [
      '-D',
      this.dataDir,
      '-l',
      join(this.dir, 'postgres.log'),
      '-w',
      '-t',
      '60',
      '-o',
      options,
      'start',
    ]);
  }

  /** `immediate` is a crash: no checkpoint, sessions cut off, recovery on the next start. */
  async stop(mode: 'fast' | 'immediate'): Promise<void> {
    await this.pg('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', '-t', '60', 'stop']);
  }

  /**
   * kill -9 of the postmaster and every backend below it: no shutdown at all. Returns once they are
   * reaped too: Postgres takes a killed postmaster that is still a zombie for a running one.
   */
  async kill(): Promise<void> {
    const postmaster = Number((await readFile(join(this.dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    const pids = processTree(postmaster);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch (err) {
        // A backend that exited between the listing and the kill is as gone as a killed one.
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
      }
    }
    await waitFor(
      'the killed Postgres processes to be reaped',
      async () => pids.every((pid) => !existsSync(`/proc/${pid}`)),
      30_000,
      50,
    );
  }

  async restart(): Promise<void> {
    await this.stop('fast');
    await this.start();
  }

  async destroy(): Promise<void> {
    await this.stop('immediate').catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }
}
