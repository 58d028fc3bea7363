import { sql, type Kysely } from 'kysely';

/**
 * Running a sale (docs/running-a-sale.md). An event can be paused (`paused_at`: purchases are still
 * accepted, nothing is decided until it is cleared), resized (a row of `event_resizes` per change of
 * `total_tickets`, numbered from the purchase sequence under the accepting lock so it takes its place
 * in the event's queue, carried out by a round when its turn comes), closed (its end: `sales_end_at`
 * is set to the moment of the close, and `close_seq` gives the close its place in the queue; the round
 * that reaches it closes the waiting list, `closed_at`) and cancelled for good (`cancelled_at` with
 * its reason; rounds then cancel every purchase of the event in queue order, a batch at a time, from
 * `cancellation_cursor`, the last `seq` done, until `cancellation_finished_at`).
 */
const REASONS = ['sold_out', 'duplicate_purchase', 'sale_ended', 'event_cancelled'];

const list = (values: readonly string[]) => sql`(${sql.join(values.map((value) => sql.lit(value)))})`;

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('events')
    .addColumn('paused_at', 'timestamptz')
    .addColumn('close_seq', 'bigint')
    .addColumn('closed_at', 'timestamptz')
    .addColumn('cancelled_at', 'timestamptz')
    .addColumn('cancellation_reason', 'text', (col) =>
      col.check(sql`char_length(cancellation_reason) between 1 and 500`),
    )
    .addColumn('cancellation_cursor', 'bigint', (col) => col.notNull().defaultTo(0))
    .addColumn('cancellation_finished_at', 'timestamptz')
    .execute();
  await db.schema
    .alterTable('events')
    .addCheckConstraint(
      'events_cancellation_has_reason',
      sql`(cancelled_at is null) = (cancellation_reason is null)
        and (cancellation_finished_at is null or cancelled_at is not null)`,
    )
    .execute();
  // A close has its place in the queue once the end has come, and the waiting list closes only after it.
  await db.schema
    .alterTable('events')
    .addCheckConstraint(
      'events_close_ordered',
      sql`(close_seq is null or sales_end_at is not null) and (closed_at is null or close_seq is not null)`,
    )
    .execute();
  // The scan's way to events whose end has passed without a close in their queue yet.
  await db.schema
    .createIndex('events_close_due')
    .on('events')
    .column('sales_end_at')
    .where(sql.ref('sales_end_at'), 'is not', null)
    .where(sql.ref('close_seq'), 'is', null)
    .execute();
  // And to those whose close or cancellation is not carried out yet.
  await db.schema
    .createIndex('events_close_pending')
    .on('events')
    .column('close_seq')
    .where(sql.ref('close_seq'), 'is not', null)
    .where(sql.ref('closed_at'), 'is', null)
    .execute();
  await db.schema
    .createIndex('events_cancellation_pending')
    .on('events')
    .column('cancelled_at')
    .where(sql.ref('cancelled_at'), 'is not', null)
    .where(sql.ref('cancellation_finished_at'), 'is', null)
    .execute();

  await db.schema
    .createTable('event_resizes')
    // Its place in the event's queue: a number from the purchase sequence, like a cancellation's.
    .addColumn('seq', 'bigint', (col) => col.primaryKey())
    .addColumn('event_id', 'uuid', (col) => col.notNull().references('events.id'))
    .addColumn('total_tickets', 'integer', (col) => col.notNull().check(sql`total_tickets > 0`))
    .addColumn('requested_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('applied_at', 'timestamptz')
    // What the total became: the request, or sold + held at that moment if more were taken meanwhile.
    .addColumn('applied_total', 'integer')
    .addCheckConstraint('event_resizes_applied', sql`(applied_at is null) = (applied_total is null)`)
    .execute();
  await db.schema
    .createIndex('event_resizes_pending')
    .on('event_resizes')
    .columns(['event_id', 'seq'])
    .where(sql.ref('applied_at'), 'is', null)
    .execute();

  // A cancelled purchase may say why when it was not the buyer's doing: its event was cancelled.
  await db.schema.alterTable('purchases').dropConstraint('purchases_rejected_has_reason').execute();
  await db.schema
    .alterTable('purchases')
    .addCheckConstraint(
      'purchases_reason_fits_status',
      sql`case status
        when 'rejected' then reason is not null and reason <> 'event_cancelled'
        when 'cancelled' then reason is null or reason = 'event_cancelled'
        else reason is null end`,
    )
    .execute();
  await db.schema
    .alterTable('purchases')
    .addCheckConstraint('purchases_reason_known', sql`reason is null or reason in ${list(REASONS)}`)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('purchases').dropConstraint('purchases_reason_known').execute();
  await db.schema.alterTable('purchases').dropConstraint('purchases_reason_fits_status').execute();
  await sql`update purchases set reason = null where status = 'cancelled'`.execute(db);
  await sql`update purchases set reason = 'sold_out' where reason = 'sale_ended'`.execute(db);
  await db.schema
    .alterTable('purchases')
    .addCheckConstraint('purchases_rejected_has_reason', sql`(status = 'rejected') = (reason is not null)`)
    .execute();
  await db.schema.dropTable('event_resizes').execute();
  for (const index of ['events_cancellation_pending', 'events_close_pending', 'events_close_due'])
    await db.schema.dropIndex(index).execute();
  await db.schema.alterTable('events').dropConstraint('events_close_ordered').execute();
  await db.schema.alterTable('events').dropConstraint('events_cancellation_has_reason').execute();
  for (const column of [
    'cancellation_finished_at',
    'cancellation_cursor',
    'cancellation_reason',
    'cancelled_at',
    'closed_at',
    'close_seq',
    'paused_at',
  ])
    await db.schema.alterTable('events').dropColumn(column).execute();
}
