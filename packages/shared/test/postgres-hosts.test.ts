import { PostgresCluster } from '@ticketing/harness';
import { sql } from 'kysely';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, ensureDatabase } from '../src/db/connection.js';
import {
  hostSelectorFor,
  parseDatabaseUrl,
  postgresHostGauge,
  postgresPrimaryOf,
  sessionFits,
} from '../src/db/postgres-hosts.js';
import { loadConfig } from '../src/config.js';

describe('parseDatabaseUrl', () => {
  it('when the URL lists several hosts, then each is kept in order with its port, 5432 by default', () => {
    const url = parseDatabaseUrl(
      'postgres://app:s%40cret@db-a:6432,db-b,[::1]:5433/tickets?target_session_attrs=read-write&sslmode=disable',
    );
    expect(url.hosts).toEqual([
      { host: 'db-a', port: 6432 },
      { host: 'db-b', port: 5432 },
      { host: '::1', port: 5433 },
    ]);
    expect(url.targetSessionAttrs).toBe('read-write');
    expect(url.database).toBe('tickets');
    // One host per URL for node-postgres, the password kept encoded, target_session_attrs gone.
    expect(url.urlFor({ host: 'db-b', port: 5432 })).toBe(
      'postgres://app:s%40cret@db-b:5432/tickets?sslmode=disable',
    );
    expect(url.urlFor({ host: '::1', port: 5433 }, 'postgres')).toBe(
      'postgres://app:s%40cret@[::1]:5433/postgres?sslmode=disable',
    );
  });

  it('when the URL has one host and no target_session_attrs, then it is libpq\'s "any"', () => {
    const url = parseDatabaseUrl('postgresql://postgres@127.0.0.1/ticketing');
    expect(url.hosts).toEqual([{ host: '127.0.0.1', port: 5432 }]);
    expect(url.targetSessionAttrs).toBe('any');
    // A Unix socket (no host in the authority) is passed on untouched.
    const socket = parseDatabaseUrl('postgres:///ticketing?host=/var/run/postgresql');
    expect(socket.hosts).toEqual([{ host: 'localhost', port: 5432 }]);
    expect(socket.urlFor({ host: 'localhost', port: 5432 }, 'postgres')).toBe(
      'postgres:///postgres?host=/var/run/postgresql',
    );
  });

  it.each([
    ['mysql://h/db', /postgres/],
    ['postgres://u@h1:5432,:5433/db', /bad host ":5433"/],
    ['postgres://u@h1:70000/db', /bad host "h1:70000"/],
    ['postgres://u@h1,h2/db?target_session_attrs=standby', /only any, read-write, primary/],
  ])('when the URL is %s, then it is refused saying why', (raw, problem) => {
    expect(() => parseDatabaseUrl(raw)).toThrow(problem);
  });

  it('when DATABASE_URL lists several hosts, then the config takes it, and a bad one is a start-up problem', () => {
    const good = 'postgres://postgres@h1:5432,h2:5432/ticketing?target_session_attrs=read-write';
    expect(loadConfig({ DATABASE_URL: good }).databaseUrl).toBe(good);
    expect(() => loadConfig({ DATABASE_URL: 'postgres://u@h1,h2:0/db' })).toThrow(/DATABASE_URL/);
  });
});

describe('sessionFits', () => {
  const primary = { inHotStandby: false, defaultTransactionReadOnly: false };
  const standby = { inHotStandby: true, defaultTransactionReadOnly: false };
  const readOnlyPrimary = { inHotStandby: false, defaultTransactionReadOnly: true };

  it('when a session must be read-write, then neither a standby nor a read-only primary will do', () => {
    expect([primary, standby, readOnlyPrimary].map((s) => sessionFits('read-write', s))).toEqual([
      true,
      false,
      false,
    ]);
    expect([primary, standby, readOnlyPrimary].map((s) => sessionFits('primary', s))).toEqual([
      true,
      false,
      true,
    ]);
    expect([primary, standby, readOnlyPrimary].map((s) => sessionFits('any', s))).toEqual([true, true, true]);
  });
});

describe('a pool on a primary and its standby', () => {
  let primary: PostgresCluster;
  let standby: PostgresCluster;
  beforeAll(async () => {
    primary = await PostgresCluster.start();
    standby = await PostgresCluster.standbyOf(primary);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([primary?.destroy(), standby?.destroy()]);
  });

  /** The standby listed first, as after a failover nobody re-ordered the list. */
  const failoverUrl = (): string =>
    `postgres://postgres@127.0.0.1:${standby.port},127.0.0.1:${primary.port}/ticketing?target_session_attrs=read-write`;

  it('when the standby is listed first, then connections go to the primary, and health and metrics say so', async () => {
    const url = failoverUrl();
    await ensureDatabase(url);
    const db = createDb(url, { poolSize: 2 });
    try {
      await sql`create table seats (n int)`.execute(db);
      await sql`insert into seats values (1)`.execute(db);
      const { rows } = await sql<{ recovery: boolean }>`select pg_is_in_recovery() as recovery`.execute(db);
      expect(rows).toEqual([{ recovery: false }]);
      expect(postgresPrimaryOf(url)).toBe(`127.0.0.1:${primary.port}`);

      const registry = new Registry();
      postgresHostGauge(registry);
      const metrics = await registry.metrics();
      expect(metrics).toContain(`ticketing_postgres_host_in_use{host="127.0.0.1:${primary.port}"} 1`);
      expect(metrics).toContain(`ticketing_postgres_host_in_use{host="127.0.0.1:${standby.port}"} 0`);
    } finally {
      await db.destroy();
    }
  });

  it('when the primary turns read-only and then the standby is promoted, then new connections are turned away, writes fail as unavailable (25006, then 08001) until they reach the new primary', async () => {
    const url = failoverUrl();
    const db = createDb(url, { poolSize: 2 });
    try {
      await sql`insert into seats values (2)`.execute(db);
      // What a demoted primary looks like to a session it already has: its writes are refused.
      await primary.query('alter system set default_transaction_read_only = on');
      await primary.query('select pg_reload_conf()');
      // A new connection to the host in use sees what it reports at start-up, and turns it away.
      const fresh = createDb(url, { poolSize: 1 });
      await expect(sql`select 1`.execute(fresh)).rejects.toMatchObject({
        code: '08001',
        message: expect.stringMatching(/no longer takes a read-write session/),
      });
      await fresh.destroy();
      await expect(sql`insert into seats values (3)`.execute(db)).rejects.toMatchObject({ code: '25006' });
      // The read-only primary is no longer used, and no host fits until the standby is promoted.
      expect(postgresPrimaryOf(url)).toBeUndefined();
      await expect(sql`insert into seats values (3)`.execute(db)).rejects.toMatchObject({ code: '08001' });

      await standby.promote();
      await sql`insert into seats values (4)`.execute(db);
      expect(postgresPrimaryOf(url)).toBe(`127.0.0.1:${standby.port}`);
      const { rows } = await sql<{ n: number }>`select n from seats order by n`.execute(db);
      expect(rows).toEqual([{ n: 1 }, { n: 2 }, { n: 4 }]);
      expect(hostSelectorFor(url).current).toEqual({ host: '127.0.0.1', port: standby.port });
    } finally {
      await db.destroy();
    }
  });

  it('when the host in use dies, then the next connections find the other one', async () => {
    const url = failoverUrl();
    const db = createDb(url, { poolSize: 2 });
    try {
      // Undo the read-only primary of the test before: now two primaries, the promoted standby first.
      await primary.query('alter system reset default_transaction_read_only');
      await primary.query('select pg_reload_conf()');
      await sql`select 1`.execute(db);
      expect(postgresPrimaryOf(url)).toBe(`127.0.0.1:${standby.port}`);

      await standby.kill();
      await expect(sql`select 1`.execute(db)).rejects.toThrow();
      const { rows } = await sql<{ port: number }>`select current_setting('port')::int as port`.execute(db);
      expect(rows).toEqual([{ port: primary.port }]);
      expect(postgresPrimaryOf(url)).toBe(`127.0.0.1:${primary.port}`);
    } finally {
      await db.destroy();
    }
  });
});
