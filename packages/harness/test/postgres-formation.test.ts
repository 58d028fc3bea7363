import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresFormation, waitFor } from '../src/index.js';

let formation: PostgresFormation | undefined;
afterAll(async () => {
  await formation?.destroy();
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

describe('a pg_auto_failover formation', () => {
  it('when its primary is killed -9, then the standby is promoted with every commit, and the old primary rejoins as a standby', async () => {
    formation = await PostgresFormation.start();
    const [first, second] = formation.nodes;
    expect(await formation.primary()).toBe(first);
    expect(formation.databaseUrl).toBe(
      `postgres://postgres@127.0.0.1:${first.port},127.0.0.1:${second.port}/ticketing?target_session_attrs=read-write`,
    );
    // Synchronous replication to the standby: a commit the primary acknowledged is on both.
    expect(
      await query(
        formation.nodeUrl(first),
        "select current_setting('synchronous_standby_names') as names, current_setting('synchronous_commit') as commit",
      ),
    ).toEqual([{ names: 'ANY 1 (pgautofailover_standby_2)', commit: 'on' }]);
    await query(formation.nodeUrl(first), 'create table kept (n int); insert into kept values (1), (2)');

    await formation.kill(first);
    await expect(query(formation.nodeUrl(first), 'select 1')).rejects.toThrow();
    await formation.waitForStates(
      'the standby to be promoted',
      async () => (await formation?.primary()) === second,
    );
    expect(await query(formation.nodeUrl(second), 'select n from kept order by n')).toEqual([
      { n: 1 },
      { n: 2 },
    ]);
    await query(formation.nodeUrl(second), 'insert into kept values (3)');

    formation.restart(first);
    await formation.waitForStates('the old primary to rejoin as a standby', (states) =>
      states.some((state) => state.name === first.name && state.reported === 'secondary'),
    );
    await waitFor('the old primary to replay the new commit', async () => {
      const rows = await query<{ n: number }>(
        formation?.nodeUrl(first) ?? '',
        'select n from kept order by n',
      );
      return rows.length === 3;
    });
    expect(await query(formation.nodeUrl(first), 'select pg_is_in_recovery() as standby')).toEqual([
      { standby: true },
    ]);
  }, 180_000);
});
