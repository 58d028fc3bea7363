import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  PostgresCluster,
  ProcessSystem,
  RedisServer,
  isRunning,
  processTree,
  sharedPostgresDatabase,
  sharedRedisPrefix,
  treeStats,
  waitFor,
} from '../src/index.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function query<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

describe('Postgres targets', () => {
  it('when a private cluster is killed -9 and started again, then what was committed is still there', async () => {
    const cluster = await PostgresCluster.start();
    cleanups.push(() => cluster.destroy());
    await query(cluster.databaseUrl, 'create table kept (n int); insert into kept values (1), (2)');

    await cluster.kill();
    await expect(query(cluster.databaseUrl, 'select 1')).rejects.toThrow();
    await cluster.start();
    expect(await query(cluster.databaseUrl, 'select n from kept order by n')).toEqual([{ n: 1 }, { n: 2 }]);

    await cluster.restart();
    expect(cluster.env()).toEqual({ DATABASE_URL: cluster.databaseUrl });
    const client = new pg.Client({ connectionString: cluster.databaseUrl });
    await client.connect();
    const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
    expect(await cluster.backendPids()).toContain(rows[0]?.pid);
    await client.end();
  });

  it('when a database of the run is made on the shared server, then it exists until destroyed', async () => {
    const database = await sharedPostgresDatabase();
    expect(await query(database.databaseUrl, 'select 1 as one')).toEqual([{ one: 1 }]);
    await database.destroy();
    await expect(query(database.databaseUrl, 'select 1')).rejects.toThrow(/does not exist/);
  });
});

describe('Redis targets', () => {
  it('when a private server is killed and started again, then it answers, empty', async () => {
    const server = await RedisServer.start({ keyPrefix: 'harness' });
    cleanups.push(() => server.destroy());
    expect(server.env()).toEqual({ REDIS_URL: server.url, QUEUE_PREFIX: 'harness' });
    await server.cli('set', 'harness:kept', 'yes');
    const pid = server.pid ?? -1;

    await server.kill();
    expect(server.pid).toBeUndefined();
    expect(isRunning(pid)).toBe(false);
    await server.start();
    expect(await server.cli('exists', 'harness:kept')).toBe('0');
    await server.restart();
    expect(await server.cli('ping')).toBe('PONG');
  });

  it("when a prefix on the shared server deletes its keys, then another prefix's keys stay", async () => {
    const mine = sharedRedisPrefix();
    const other = sharedRedisPrefix();
    const redis = new Redis(mine.url);
    try {
      await redis.set(`${mine.keyPrefix}:a`, '1');
      await redis.set(`${other.keyPrefix}:a`, '1');
      await mine.deleteKeys();
      expect(await redis.exists(`${mine.keyPrefix}:a`, `${other.keyPrefix}:a`)).toBe(1);
      await other.destroy();
      expect(await redis.exists(`${other.keyPrefix}:a`)).toBe(0);
    } finally {
      redis.disconnect();
    }
  });
});

describe('processes', () => {
  it('when a process has children, then its tree and their stats include them', async () => {
    const parent = spawn('sh', ['-c', 'sleep 30 & wait'], { stdio: 'ignore' });
    const root = parent.pid ?? -1;
    try {
      await waitFor('the child to start', async () => processTree(root).length === 2, 5_000, 20);
      const stats = treeStats([root]);
      expect(stats.peakRssMb).toBeGreaterThanOrEqual(0);
      expect(stats.cpuSeconds).toBeGreaterThanOrEqual(0);
    } finally {
      const tree = processTree(root);
      for (const pid of tree.reverse()) process.kill(pid, 'SIGKILL');
      await waitFor('the tree to be gone', async () => tree.every((pid) => !isRunning(pid)), 5_000, 20);
    }
  });

  it('when an api process exits before it is ready, then startApi fails at once with its log', async () => {
    const postgres = await sharedPostgresDatabase();
    const redis = sharedRedisPrefix();
    const system = await ProcessSystem.create({ postgres, redis });
    try {
      const started = Date.now();
      await expect(system.startApi({ API_PROCESSES: 'many' })).rejects.toThrow(
        /exited \(1\) before it was ready[\s\S]*API_PROCESSES/,
      );
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(system.started.map((service) => service.exit)).toEqual([{ code: 1, signal: null }]);
    } finally {
      await system.stop();
      await redis.destroy();
      await postgres.destroy();
    }
  });
});
