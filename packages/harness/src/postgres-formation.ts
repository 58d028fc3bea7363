import { execFile, execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import type { PostgresTarget } from './postgres.js';
import { processTree } from './process-stats.js';
import { freePort, sleep, waitFor } from './wait.js';

const run = promisify(execFile);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../../');

/** One Postgres node of a formation: its name on the monitor, its port, and its data directory. */
export interface FormationNode {
  readonly name: string;
  readonly port: number;
  readonly pgdata: string;
}

/** What the monitor says about a node: the state it reported and the one it was assigned. */
export interface NodeState {
  readonly name: string;
  readonly port: number;
  readonly reported: string;
  readonly assigned: string;
}

const PRIMARY_STATES = new Set(['single', 'wait_primary', 'primary']);

/**
 * The monitor's health checks, from seconds to a second: a node that stops answering is failed over
 * from in about three seconds instead of half a minute (the defaults suit a WAN, not a test).
 */
const MONITOR_SETTINGS: Record<string, number> = {
  'pgautofailover.health_check_period': 1_000,
  'pgautofailover.health_check_timeout': 1_000,
  'pgautofailover.health_check_max_retries': 1,
  'pgautofailover.health_check_retry_delay': 500,
  'pgautofailover.node_considered_unhealthy_timeout': 2_000,
  'pgautofailover.primary_demote_timeout': 2_000,
};

const isRoot = (): boolean => process.getuid?.() === 0;

/**
 * Installs pg_auto_failover from Debian's packages when missing (scripts/ensure-pg-auto-failover.sh).
 * The real path: the one the PATH gives may be a link in a directory only this user can enter (CI
 * hides pnpm behind such links), and pg_autoctl runs as the postgres user.
 */
function ensurePgAutoctl(): string {
  return realpathSync(
    execFileSync('bash', [join(ROOT, 'scripts/ensure-pg-auto-failover.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }).trim(),
  );
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => {});
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * A private pg_auto_failover formation: a monitor and two Postgres nodes on free loopback ports, run
 * by Debian's `pg_autoctl` (as the `postgres` OS user when this is root), in a temp dir of its own.
 * Replication is synchronous by default (pg_auto_failover's `ANY 1` of the standbys with replication
 * quorum): a commit on the primary waits for the standby. Its `DATABASE_URL` lists both nodes with
 * `target_session_attrs=read-write`, as an application on HA Postgres would.
 */
export class PostgresFormation implements PostgresTarget {
  /** The root process of each running pg_autoctl (monitor or node), by name. */
  private readonly running = new Map<string, number>();

  private constructor(
    private readonly pgAutoctl: string,
    private readonly dir: string,
    readonly monitorPort: number,
    readonly nodes: readonly [FormationNode, FormationNode],
    private readonly database: string,
  ) {}

  /** Starts the monitor, then the first node (the primary), then the second (a standby of it). */
  static async start(options: { database?: string } = {}): Promise<PostgresFormation> {
    const pgAutoctl = ensurePgAutoctl();
    const dir = await mkdtemp(join(tmpdir(), 'ticketing-paf-'));
    if (isRoot()) {
      const [uid, gid] = await Promise.all(
        ['-u', '-g'].map(async (flag) => Number((await run('id', [flag, 'postgres'])).stdout.trim())),
      );
      await chown(dir, uid ?? 0, gid ?? 0);
    }
    const [monitorPort, port1, port2] = [await freePort(), await freePort(), await freePort()];
    const node = (name: string, port: number): FormationNode => ({ name, port, pgdata: join(dir, name) });
    const formation = new PostgresFormation(
      pgAutoctl,
      dir,
      monitorPort,
      [node('node1', port1), node('node2', port2)],
      options.database ?? 'ticketing',
    );
    try {
      await formation.startMonitor();
      const [first, second] = formation.nodes;
      formation.spawnNode(first, 'create');
      await formation.waitForStates(`${first.name} to be the primary`, (states) =>
        states.some((state) => state.name === first.name && PRIMARY_STATES.has(state.reported)),
      );
      // Runs kill processes, never the machine: what reached the OS is kept either way (as PostgresCluster).
      await withClient(formation.nodeUrl(first, 'postgres'), async (client) => {
        await client.query('alter system set fsync = off');
        await client.query('select pg_reload_conf()');
      });
      formation.spawnNode(second, 'create');
      await formation.waitForStates(
        `${second.name} to be a secondary of ${first.name}`,
        async (states) => {
          // The standby's base backup waits for a checkpoint, minutes away unless asked for now.
          await withClient(formation.nodeUrl(first, 'postgres'), (client) => client.query('checkpoint'));
          return (
            states.some((state) => state.name === second.name && state.reported === 'secondary') &&
            states.some((state) => state.name === first.name && state.reported === 'primary')
          );
        },
        120_000,
      );
    } catch (error) {
      await formation.destroy();
      throw error;
    }
    return formation;
  }

  get monitorUrl(): string {
    return `postgres://autoctl_node@127.0.0.1:${this.monitorPort}/pg_auto_failover?sslmode=disable`;
  }

  /** A URL of one node (for checks and settings; the system uses `databaseUrl`). */
  nodeUrl(node: FormationNode, database = this.database): string {
    return `postgres://postgres@127.0.0.1:${node.port}/${database}`;
  }

  get databaseUrl(): string {
    const hosts = this.nodes.map((node) => `127.0.0.1:${node.port}`).join(',');
    return `postgres://postgres@${hosts}/${this.database}?target_session_attrs=read-write`;
  }

  env(): Record<string, string> {
    return { DATABASE_URL: this.databaseUrl };
  }

  async backendPids(): Promise<number[]> {
    return withClient(this.nodeUrl(await this.primary(), 'postgres'), async (client) => {
      const { rows } = await client.query<{ pid: number }>(
        'select pid from pg_stat_activity where datname = $1',
        [this.database],
      );
      return rows.map((row) => row.pid);
    });
  }

  /** Every node's state as the monitor has it. */
  async states(): Promise<NodeState[]> {
    return withClient(this.monitorUrl, async (client) => {
      const { rows } = await client.query<NodeState>(
        `select nodename as name, nodeport as port, reportedstate::text as reported, goalstate::text as assigned
           from pgautofailover.node order by nodeid`,
      );
      return rows;
    });
  }

  /** The node the monitor has as primary now (reported and assigned). */
  async primary(): Promise<FormationNode> {
    const states = await this.states();
    const primary = states.find(
      (state) => PRIMARY_STATES.has(state.reported) && state.reported === state.assigned,
    );
    const node = this.nodes.find((candidate) => candidate.name === primary?.name);
    if (node === undefined) throw new Error(`No primary in the formation: ${JSON.stringify(states)}`);
    return node;
  }

  /** The other node. */
  otherThan(node: FormationNode): FormationNode {
    return this.nodes[0] === node ? this.nodes[1] : this.nodes[0];
  }

  async waitForStates(
    what: string,
    check: (states: NodeState[]) => boolean | Promise<boolean>,
    timeoutMs = 60_000,
  ): Promise<void> {
    await waitFor(what, async () => check(await this.states()), timeoutMs, 200);
  }

  /**
   * kill -9 of the node's pg_autoctl and its Postgres, every process of it: the machine is gone, as far
   * as the formation can tell. Returns once they are reaped.
   */
  async kill(node: FormationNode): Promise<void> {
    await this.killTree(node.name);
  }

  /** Starts a killed node again: its pg_autoctl asks the monitor what it is now (a standby, after a failover). */
  restart(node: FormationNode): void {
    this.spawnNode(node, 'run');
  }

  /**
   * Makes replication to the standby asynchronous (replication quorum off): commits on the primary no
   * longer wait for it. What a formation without synchronous replication is.
   */
  async replicateAsynchronously(): Promise<void> {
    const primary = await this.primary();
    const standby = this.otherThan(primary);
    await this.pgAutoctlCommand(['set', 'node', 'replication-quorum', 'false', '--pgdata', standby.pgdata]);
    await waitFor(
      'the primary to stop waiting for the standby',
      () =>
        withClient(this.nodeUrl(primary, 'postgres'), async (client) => {
          const { rows } = await client.query<{ names: string }>(
            "select current_setting('synchronous_standby_names') as names",
          );
          return rows[0]?.names === '';
        }),
      30_000,
      200,
    );
  }

  /**
   * Holds the standby behind: the primary's WAL senders are stopped (SIGSTOP), so the standby receives
   * nothing more while the primary goes on committing (unless it waits for the standby: synchronous
   * replication then blocks commits instead). Killing the primary ends them with it.
   */
  async holdBackStandby(): Promise<void> {
    const primary = await this.primary();
    const senders = await withClient(this.nodeUrl(primary, 'postgres'), async (client) => {
      const { rows } = await client.query<{ pid: number }>('select pid from pg_stat_replication');
      return rows.map((row) => row.pid);
    });
    if (senders.length === 0) throw new Error('The primary has no WAL sender to stop');
    for (const pid of senders) process.kill(pid, 'SIGSTOP');
  }

  async destroy(): Promise<void> {
    for (const name of [...this.running.keys()].reverse()) await this.killTree(name);
    await rm(this.dir, { recursive: true, force: true });
  }

  private async startMonitor(): Promise<void> {
    this.spawn('monitor', [
      'create',
      'monitor',
      '--pgdata',
      join(this.dir, 'monitor'),
      '--pgport',
      String(this.monitorPort),
      '--hostname',
      '127.0.0.1',
      '--listen',
      '127.0.0.1',
      '--auth',
      'trust',
      '--no-ssl',
      '--run',
    ]);
    const adminUrl = `postgres://postgres@127.0.0.1:${this.monitorPort}/pg_auto_failover`;
    await waitFor(
      'the pg_auto_failover monitor',
      () =>
        withClient(
          adminUrl,
          async (client) => (await client.query('select 1 from pgautofailover.formation')).rowCount === 1,
        ),
      60_000,
      200,
    );
    await withClient(adminUrl, async (client) => {
      for (const [name, value] of Object.entries(MONITOR_SETTINGS)) {
        await client.query(`alter system set ${name} = ${value}`);
      }
      await client.query('select pg_reload_conf()');
    });
  }

  private spawnNode(node: FormationNode, how: 'create' | 'run'): void {
    const args =
      how === 'run'
        ? ['run', '--pgdata', node.pgdata]
        : [
            'create',
            'postgres',
            '--pgdata',
            node.pgdata,
            '--pgport',
            String(node.port),
            '--hostname',
            '127.0.0.1',
            '--listen',
            '127.0.0.1',
            '--name',
            node.name,
            '--dbname',
            this.database,
            '--auth',
            'trust',
            '--no-ssl',
            '--monitor',
            this.monitorUrl,
            '--run',
          ];
    this.spawn(node.name, args);
  }

  /**
   * pg_autoctl's configuration and state go under the formation's dir, not the user's home, and it
   * runs the newest Postgres installed (the one the extension was installed for).
   */
  private get pgAutoctlEnv(): string[] {
    const versions = readdirSync('/usr/lib/postgresql')
      .filter((name) => /^\d+$/.test(name))
      .sort((a, b) => Number(b) - Number(a));
    const bin = `/usr/lib/postgresql/${versions[0] ?? '15'}/bin`;
    return [
      `XDG_CONFIG_HOME=${join(this.dir, 'config')}`,
      `XDG_DATA_HOME=${join(this.dir, 'share')}`,
      `XDG_RUNTIME_DIR=${join(this.dir, 'run')}`,
      'PGHOST=127.0.0.1',
      `PG_CONFIG=${join(bin, 'pg_config')}`,
      // Not this process's PATH: the postgres user may not be able to enter its directories.
      `PATH=${bin}:/usr/local/bin:/usr/bin:/bin`,
    ];
  }

  private command(args: string[]): [string, string[]] {
    const env = ['/usr/bin/env', ...this.pgAutoctlEnv, this.pgAutoctl, ...args];
    return isRoot() ? ['runuser', ['-u', 'postgres', '--', ...env]] : [env[0] as string, env.slice(1)];
  }

  /** A pg_autoctl of its own process group, logging to `<name>.log` in the formation's dir. */
  private spawn(name: string, args: string[]): void {
    const [file, argv] = this.command(args);
    const log = openSync(join(this.dir, `${name}.log`), 'a');
    const child = spawn(file, argv, { detached: true, stdio: ['ignore', log, log], cwd: this.dir });
    closeSync(log);
    child.unref();
    if (child.pid === undefined) throw new Error(`pg_autoctl for ${name} did not start`);
    this.running.set(name, child.pid);
  }

  private async pgAutoctlCommand(args: string[]): Promise<void> {
    const [file, argv] = this.command(args);
    await run(file, argv, { cwd: this.dir });
  }

  /**
   * pg_autoctl supervises its Postgres and restarts what dies, so the whole tree goes at once (its
   * process group, then whatever left it), until nothing of it is left.
   */
  private async killTree(name: string): Promise<void> {
    const root = this.running.get(name);
    if (root === undefined) return;
    this.running.delete(name);
    const pids = new Set<number>();
    const sweep = (): void => {
      const tree = existsSync(`/proc/${root}`) ? processTree(root) : [];
      for (const pid of tree) pids.add(pid);
      try {
        process.kill(-root, 'SIGKILL');
      } catch {
        // The group is gone already.
      }
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Exited between the listing and the kill: as gone as a killed one.
        }
      }
    };
    sweep();
    await waitFor(
      `pg_autoctl ${name} to be reaped`,
      async () => {
        sweep();
        return [...pids].every((pid) => !existsSync(`/proc/${pid}`) || isZombie(pid));
      },
      30_000,
      50,
    );
    // A postmaster that is still a zombie holds its port and its pid file for a moment.
    await sleep(100);
  }
}

/** A process that has exited and waits to be reaped holds nothing any more. */
function isZombie(pid: number): boolean {
  try {
    // The state follows the parenthesised command name, which may itself hold spaces.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}
