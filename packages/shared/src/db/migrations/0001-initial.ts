import { sql, type Kysely } from 'kysely';

// Migrations see the database as it was when they were written, so they take an untyped Kysely.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('events')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('name', 'text', (col) => col.notNull().check(sql`char_length(name) between 1 and 200`))
    .addColumn('total_tickets', 'integer', (col) => col.notNull().check(sql`total_tickets > 0`))
    .addColumn('sold_tickets', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('price_cents', 'integer', (col) => col.notNull().check(sql`price_cents >= 0`))
    .addColumn('currency', 'text', (col) => col.notNull().check(sql`currency ~ '^[A-Z]{3}$'`))
    .addColumn('max_per_purchase', 'integer', (col) => col.notNull().check(sql`max_per_purchase > 0`))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    // The invariant that matters most: an event can never be oversold, whatever the code does.
    .addCheckConstraint('events_sold_within_total', sql`sold_tickets between 0 and total_tickets`)
    .execute();
  await db.schema.createIndex('events_created_at_id').on('events').columns(['created_at', 'id']).execute();

  await db.schema
    .createTable('purchases')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('seq', 'bigint', (col) => col.notNull().generatedAlwaysAsIdentity().unique())
    .addColumn('event_id', 'uuid', (col) => col.notNull().references('events.id'))
    .addColumn('user_id', 'text', (col) => col.notNull().check(sql`char_length(user_id) between 1 and 128`))
    .addColumn('quantity', 'integer', (col) => col.notNull().check(sql`quantity > 0`))
    .addColumn('join_waitlist', 'boolean', (col) => col.notNull())
    .addColumn('status', 'text', (col) =>
      col
        .notNull()
        .defaultTo('queued')
        .check(sql`status in ('queued', 'confirmed', 'waitlisted', 'rejected', 'cancelled')`),
    )
    .addColumn('reason', 'text')
    .addColumn('idempotency_key', 'text')
    .addColumn('cancel_requested_at', 'timestamptz')
    // Drawn from the same sequence as `seq` when a cancellation is requested: its place in the queue.
    .addColumn('cancel_seq', 'bigint', (col) => col.unique())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('processed_at', 'timestamptz')
    .addCheckConstraint('purchases_rejected_has_reason', sql`(status = 'rejected') = (reason is not null)`)
    .execute();
  await db.schema
    .createIndex('purchases_event_idempotency_key')
    .on('purchases')
    .columns(['event_id', 'idempotency_key'])
    .unique()
    .where(sql.ref('idempotency_key'), 'is not', null)
    .execute();
  // A user holds at most one confirmed or waitlisted purchase per event, enforced by Postgres too.
  await db.schema
    .createIndex('purchases_one_active_per_user')
    .on('purchases')
    .columns(['event_id', 'user_id'])
    .unique()
    .where(sql.ref('status'), 'in', sql`('confirmed', 'waitlisted')`)
    .execute();
  await db.schema
    .createIndex('purchases_queued_by_event')
    .on('purchases')
    .columns(['event_id', 'seq'])
    .where(sql.ref('status'), '=', 'queued')
    .execute();
  await db.schema
    .createIndex('purchases_event_status')
    .on('purchases')
    .columns(['event_id', 'status'])
    .execute();

  await db.schema
    .createTable('bookings')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    // One booking per purchase: a job processed twice can never book twice.
    .addColumn('purchase_id', 'uuid', (col) => col.notNull().unique().references('purchases.id'))
    .addColumn('event_id', 'uuid', (col) => col.notNull().references('events.id'))
    .addColumn('user_id', 'text', (col) => col.notNull())
    .addColumn('quantity', 'integer', (col) => col.notNull().check(sql`quantity > 0`))
    .addColumn('unit_price_cents', 'integer', (col) => col.notNull().check(sql`unit_price_cents >= 0`))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('cancelled_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('bookings_event').on('bookings').column('event_id').execute();

  await db.schema
    .createTable('waitlist_entries')
    .addColumn('purchase_id', 'uuid', (col) => col.primaryKey().references('purchases.id'))
    .addColumn('event_id', 'uuid', (col) => col.notNull().references('events.id'))
    .addColumn('seq', 'bigint', (col) => col.notNull().generatedAlwaysAsIdentity().unique())
    .addColumn('quantity', 'integer', (col) => col.notNull().check(sql`quantity > 0`))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('waitlist_entries_event_seq')
    .on('waitlist_entries')
    .columns(['event_id', 'seq'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['waitlist_entries', 'bookings', 'purchases', 'events']) {
    await db.schema.dropTable(table).execute();
  }
}
