import { execFile } from 'node:child_process';
import { chown, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function postgresBin(): Promise<string> {
  const versions = (await readdir('/usr/lib/postgresql'))
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(b) - Number(a));
  if (versions[0] === undefined) throw new Error('No PostgreSQL server under /usr/lib/postgresql');
  return `/usr/lib/postgresql/${versions[0]}/bin`;
}

const isRoot = (): boolean => process.getuid?.() === 0;

/**
 * A throw-away Postgres cluster of the suite's own (initdb into a temp dir, its own port), so it can
 * be stopped, crashed and restarted without touching the machine's Postgres. Postgres refuses to run
 * as root, so as root every command runs as the `postgres` OS user.
 */
export class PostgresCluster {
  private constructor(
    private readonly bin: string,
    private readonly dir: string,
    readonly port: number,
  ) {}

  static async create(port: number): Promise<PostgresCluster> {
    const dir = await mkdtemp(join(tmpdir(), 'ticketing-faults-pg-'));
    if (isRoot()) {
      const [uid, gid] = await Promise.all(
        ['-u', '-g'].map(async (flag) => Number((await run('id', [flag, 'postgres'])).stdout.trim())),
      );
      await chown(dir, uid ?? 0, gid ?? 0);
    }
    const cluster = new PostgresCluster(await postgresBin(), dir, port);
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
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
    return cluster;
  }

  private get dataDir(): string {
    return join(this.dir, 'data');
  }

  url(database: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  private async pg(command: string, args: string[]): Promise<void> {
    const [file, argv] = isRoot()
      ? ['runuser', ['-u', 'postgres', '--', join(this.bin, command), ...args]]
      : [join(this.bin, command), args];
    await run(file, argv, { cwd: this.dir });
  }

  /**
   * fsync is off: the suite kills processes, never the machine, so what Postgres wrote to the OS is
   * kept either way; an immediate stop still forces crash recovery from the WAL on the next start.
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

  async destroy(): Promise<void> {
    await this.stop('immediate').catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }
}
