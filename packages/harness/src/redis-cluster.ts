import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { RedisProcess } from './redis-process.js';
import type { RedisTarget } from './redis.js';
import { freePort, sleep, waitFor } from './wait.js';

const run = promisify(execFile);

/** One line of `CLUSTER NODES`, as far as the tests need it. */
export interface ClusterNodeInfo {
  readonly id: string;
  readonly port: number;
  readonly role: 'master' | 'replica';
  /** Marked failed by the cluster (`fail`, not the suspicion `fail?`). */
  readonly failed: boolean;
  /** For a replica: its master's id. */
  readonly masterId: string | undefined;
  /** For a master: the slot ranges it serves, as `CLUSTER NODES` prints them (`0-5460`). */
  readonly slots: readonly string[];
}

export function parseClusterNodes(text: string): ClusterNodeInfo[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [id = '', address = '', flags = '', master = '-', , , , , ...slots] = line.trim().split(' ');
      const flagList = flags.split(',');
      return {
        id,
        port: Number(/:(\d+)@/.exec(address)?.[1] ?? 0),
        role: flagList.includes('master') ? 'master' : 'replica',
        failed: flagList.includes('fail'),
        masterId: master === '-' ? undefined : master,
        slots: slots.filter((slot) => !slot.startsWith('[')),
      };
    });
}

/**
 * One `redis-server --cluster-enabled yes` on its client port and its cluster bus port, in its own
 * folder. Without persistence of data (a killed node comes back empty, and gets its data again from
 * its shard's master), but its cluster configuration (nodes.conf in its folder) survives, so a
 * restarted node rejoins as the member it was.
 */
function clusterNode(port: number, busPort: number, dir: string, nodeTimeoutMs: number): RedisProcess {
  // `cluster-port` names the bus port (else port + 10000, which may be taken or out of range).
  return new RedisProcess(port, [
    ...['--cluster-port', String(busPort)],
    ...['--cluster-enabled', 'yes'],
    ...['--cluster-config-file', 'nodes.conf'],
    ...['--cluster-node-timeout', String(nodeTimeoutMs)],
    ...['--dir', dir],
    ...['--save', '', '--appendonly', 'no'],
    ...['--maxmemory-policy', 'noeviction'],
  ]);
}

export interface RedisClusterOptions {
  readonly keyPrefix: string;
  readonly masters?: number;
  readonly replicasPerMaster?: number;
  /**
   * `cluster-node-timeout`: how long a master may be unreachable before the others count it failed
   * and its replica takes over (Redis's default is 15 s; tests that kill a master want seconds).
   */
  readonly nodeTimeoutMs?: number;
}

/**
 * A Redis Cluster of the run's own: `masters` masters with `replicasPerMaster` replicas each (3 and
 * 1 by default), each a `redis-server --cluster-enabled yes` on free loopback ports, joined with
 * `redis-cli --cluster create`. Services reach it through REDIS_CLUSTER_NODES. `destroy` kills every
 * node and removes their folders.
 */
export class RedisCluster implements RedisTarget {
  /** A node of the cluster, for a client that needs one address (classic pub/sub reaches every node). */
  readonly url: string;

  private constructor(
    private readonly nodes: RedisProcess[],
    private readonly dir: string,
    readonly keyPrefix: string,
  ) {
    this.url = `redis://127.0.0.1:${nodes[0]?.port ?? 0}`;
  }

  static async start(options: RedisClusterOptions): Promise<RedisCluster> {
    const count = (options.masters ?? 3) * (1 + (options.replicasPerMaster ?? 1));
    const dir = await mkdtemp(join(tmpdir(), 'ticketing-redis-cluster-'));
    const ports = new Set<number>();
    while (ports.size < count * 2) ports.add(await freePort());
    const [clientPorts, busPorts] = [[...ports].slice(0, count), [...ports].slice(count)];
    const nodes = clientPorts.map((port, index) =>
      clusterNode(port, busPorts[index] ?? 0, join(dir, String(port)), options.nodeTimeoutMs ?? 2_000),
    );
    const cluster = new RedisCluster(nodes, dir, options.keyPrefix);
    try {
      await Promise.all(nodes.map((node) => mkdir(join(dir, String(node.port)))));
      await Promise.all(nodes.map((node) => node.start()));
      await run('redis-cli', [
        '--cluster',
        'create',
        ...nodes.map((node) => `127.0.0.1:${node.port}`),
        '--cluster-replicas',
        String(options.replicasPerMaster ?? 1),
        '--cluster-yes',
      ]);
      await cluster.waitHealthy();
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
    return cluster;
  }

  /** `host:port` of every node, as REDIS_CLUSTER_NODES takes them. */
  get seedNodes(): string {
    return this.nodes.map((node) => `127.0.0.1:${node.port}`).join(',');
  }

  env(): Record<string, string> {
    return { REDIS_CLUSTER_NODES: this.seedNodes, QUEUE_PREFIX: this.keyPrefix };
  }

  /** Nodes running now (for CPU accounting). */
  get pids(): number[] {
    return this.nodes.flatMap((node) => (node.pid === undefined ? [] : [node.pid]));
  }

  private node(port: number): RedisProcess {
    const node = this.nodes.find((candidate) => candidate.port === port);
    if (node === undefined) throw new Error(`No cluster node on port ${port}`);
    return node;
  }

  private get live(): RedisProcess[] {
    return this.nodes.filter((node) => node.running);
  }

  cli(port: number, ...args: string[]): Promise<string> {
    return this.node(port).cli(...args);
  }

  /** The cluster as a running node sees it. */
  async topology(): Promise<ClusterNodeInfo[]> {
    const [node] = this.live;
    if (node === undefined) throw new Error('No cluster node is running');
    return parseClusterNodes(await node.cli('cluster', 'nodes'));
  }

  /** Ports of the masters that serve slots now. */
  async masterPorts(): Promise<number[]> {
    return (await this.topology())
      .filter((node) => node.role === 'master' && !node.failed && node.slots.length > 0)
      .map((node) => node.port);
  }

  /**
   * Waits until every running node says `cluster_state:ok` and agrees on the same masters, each
   * serving slots; returns how long that took.
   */
  async waitHealthy(timeoutMs = 30_000): Promise<number> {
    const started = Date.now();
    await waitFor(
      'the Redis Cluster to be healthy',
      async () => {
        const states = await Promise.all(this.live.map((node) => node.cli('cluster', 'info')));
        if (!states.every((state) => state.includes('cluster_state:ok'))) return false;
        const views = await Promise.all(
          this.live.map(async (node) =>
            parseClusterNodes(await node.cli('cluster', 'nodes'))
              .filter((info) => info.role === 'master' && !info.failed && info.slots.length > 0)
              .map((info) => info.port)
              .sort()
              .join(','),
          ),
        );
        return views.every((view) => view === views[0]);
      },
      timeoutMs,
      50,
    );
    return Date.now() - started;
  }

  /**
   * After a master was killed: waits until every running node counts it failed, one of its replicas
   * serves its slots, and the cluster is healthy again; returns how long that took.
   */
  async waitForFailover(deadPort: number, timeoutMs = 30_000): Promise<number> {
    const started = Date.now();
    await waitFor(
      `a replica to take over from master ${deadPort}`,
      async () => {
        const views = await Promise.all(
          this.live.map(async (node) => parseClusterNodes(await node.cli('cluster', 'nodes'))),
        );
        return views.every((view) => {
          const dead = view.find((info) => info.port === deadPort);
          const masters = view.filter(
            (info) => info.role === 'master' && !info.failed && info.slots.length > 0,
          );
          return (
            dead?.failed === true && masters.length === view.filter((info) => info.slots.length > 0).length
          );
        });
      },
      timeoutMs,
      50,
    );
    await this.waitHealthy(timeoutMs);
    return Date.now() - started;
  }

  /** kill -9 one node: gone with what it held; its replica (if a master) takes over after the node timeout. */
  async kill(port: number): Promise<void> {
    await this.node(port).kill();
  }

  /** Starts a killed node again: it rejoins (a former master as a replica of its successor). */
  async restart(port: number): Promise<void> {
    await this.node(port).start();
  }

  /** `redis-cli --cluster check`: every slot covered, the nodes agree; its output, and whether it passed. */
  async check(): Promise<{ ok: boolean; output: string }> {
    const [node] = this.live;
    if (node === undefined) return { ok: false, output: 'no node is running' };
    try {
      const { stdout } = await run('redis-cli', ['--cluster', 'check', `127.0.0.1:${node.port}`]);
      const ok =
        stdout.includes('[OK] All nodes agree about slots configuration.') &&
        stdout.includes('[OK] All 16384 slots covered.') &&
        !/\[ERR\]|\[WARNING\]/.test(stdout);
      return { ok, output: stdout };
    } catch (error) {
      const output = (error as { stdout?: string }).stdout ?? String(error);
      return { ok: false, output };
    }
  }

  /** Keys of the system on one node matching `pattern` (SCAN: a node lists only the keys it holds). */
  async keysOn(port: number, pattern = `${this.keyPrefix}:*`): Promise<string[]> {
    return (await this.node(port).cli('--scan', '--pattern', pattern)).split('\n').filter(Boolean);
  }

  async deleteKeys(): Promise<void> {
    for (const port of await this.masterPorts()) {
      const redis = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 });
      redis.on('error', () => {});
      try {
        // One key per UNLINK: keys of different slots may not share a command on a cluster.
        const pipeline = redis.pipeline();
        for (const key of await this.keysOn(port)) pipeline.unlink(key);
        await pipeline.exec();
      } finally {
        redis.disconnect();
      }
    }
  }

  /** Memory the masters hold for data (INFO used_memory), in MB to a tenth. */
  async usedMemoryMb(): Promise<number> {
    let bytes = 0;
    for (const port of await this.masterPorts()) {
      bytes += Number(/used_memory:(\d+)/.exec(await this.node(port).cli('info', 'memory'))?.[1] ?? '0');
    }
    return Math.round((bytes / 1024 / 1024) * 10) / 10;
  }

  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.kill()));
    // A node killed a moment ago may still be writing its nodes.conf.
    await sleep(50);
    await rm(this.dir, { recursive: true, force: true });
  }
}
