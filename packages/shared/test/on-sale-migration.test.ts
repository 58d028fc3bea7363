import { Migrator, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { useUnmigratedDatabase } from '../src/testing/index.js';
import { migrations } from '../src/db/migrate.js';

const db = await useUnmigratedDatabase({ poolSize: 2 });

/** Every index and constraint of the two tables the migration changes, as Postgres defines them. */
async function schema(): Promise<string[]> {
  const { rows } = await sql<{ definition: string }>`
    select indexdef as definition from pg_indexes where tablename in ('events', 'purchases')
    union all
    select conname || ' ' || pg_get_constraintdef(oid) from pg_constraint
    where conrelid in ('events'::regclass, 'purchases'::regclass)
    union all
    select table_name || '.' || column_name || ' ' || data_type || coalesce(' ' || collation_name, '')
    from information_schema.columns where table_name in ('events', 'purchases')
    order by 1`.execute(db);
  return rows.map((row) => row.definition);
}

describe('the on-sale (migration 0007)', () => {
  it('when it is undone and done again, then the schema is as before each time, and a pre-queue entry needs its key and is one per buyer', async () => {
    const provider = { getMigrations: () => Promise.resolve(migrations) };
    const migrator = new Migrator({ db, provider });
    expect((await migrator.migrateTo('0006-checkout-holds')).error).toBeUndefined();
    const before = await schema();
    expect((await migrator.migrateTo('0007-on-sale')).error).toBeUndefined();
    const after = await schema();
    expect((await migrator.migrateDown()).error).toBeUndefined();
    expect(await schema()).toEqual(before);
    expect((await migrator.migrateTo('0007-on-sale')).error).toBeUndefined();
    expect(await schema()).toEqual(after);
    expect(after).toContainEqual('purchases.draw_key text C');

    const event = await db
      .insertInto('events')
      .values({ name: 'On sale', totalTickets: 1, priceCents: 0, currency: 'USD', maxPerPurchase: 1 })
      .returning('id')
      .executeTakeFirstOrThrow();
    const key = 'ab'.repeat(32);
    const entry = (id: string, drawKey: string | null) =>
      sql`insert into purchases (id, event_id, user_id, quantity, join_waitlist, status, draw_key)
        values (${id}, ${event.id}, 'u1', 1, true, 'prequeued', ${drawKey})`.execute(db);
    await expect(entry('00000000-0000-4000-8000-000000000001', null)).rejects.toThrow(/prequeued_has_key/);
    await entry('00000000-0000-4000-8000-000000000002', key);
    await expect(entry('00000000-0000-4000-8000-000000000003', key)).rejects.toThrow(
      /purchases_one_prequeued_per_user/,
    );
  });
});
