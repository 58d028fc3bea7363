import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../src/testing/index.js';

const { db, newPool } = await useTestDatabase({ poolSize: 2 });
const admin = newPool(1);

describe('connection loss', () => {
  it('when Postgres drops a connection in the middle of a transaction, then the transaction fails and the process carries on', async () => {
    const attempt = db.transaction().execute(async (tx) => {
      const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(tx);
      // What a restart of Postgres does to every session, here to this one only.
      await sql`select pg_terminate_backend(${rows[0]?.pid})`.execute(admin);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await sql`select 1`.execute(tx);
    });
    await expect(attempt).rejects.toThrow();
    // The pool replaced the dead connection.
    const { rows } = await sql<{ one: number }>`select 1 as one`.execute(db);
    expect(rows).toEqual([{ one: 1 }]);
  });
});
