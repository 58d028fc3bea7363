import { sql, type Kysely } from 'kysely';

/**
 * Checkout holds. An event may hold tickets for payment (`hold_seconds`); held tickets count against
 * the inventory next to sold ones, and Postgres refuses any row where the two exceed the total. A held
 * purchase is active like a confirmed one (one active purchase per user, cancellations), and its expiry
 * takes a place in the event's queue (`expire_seq`) like a cancellation.
 */
/**
 * The two partial indexes over active purchases, rebuilt for a list of active statuses: one active
 * purchase per user and event, and pending cancellations (of queued or active purchases).
 */
async function indexActivePurchases(db: Kysely<unknown>, active: readonly string[]): Promise<void> {
  const statuses = (list: readonly string[]) => sql`(${sql.join(list.map((status) => sql.lit(status)))})`;
  await db.schema.dropIndex('purchases_one_active_per_user').execute();
  await db.schema
    .createIndex('purchases_one_active_per_user')
    .on('purchases')
    .columns(['event_id', 'user_id'])
    .unique()
    .where(sql.ref('status'), 'in', statuses(active))
    .execute();
  await db.schema.dropIndex('purchases_pending_cancellation').execute();
  await db.schema
    .createIndex('purchases_pending_cancellation')
    .on('purchases')
    .columns(['event_id', 'cancel_seq'])
    .where(sql.ref('cancel_seq'), 'is not', null)
    .where(sql.ref('status'), 'in', statuses(['queued', ...active]))
    .execute();
}

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('events')
    .addColumn('hold_seconds', 'integer', (col) =>
      col
        .notNull()
        .defaultTo(0)
        .check(sql`hold_seconds between 0 and 3600`),
    )
    .addColumn('held_tickets', 'integer', (col) => col.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('events').dropConstraint('events_sold_within_total').execute();
  // The invariant that matters most, now over sold and held tickets together.
  await db.schema
    .alterTable('events')
    .addCheckConstraint(
      'events_sold_and_held_within_total',
      sql`sold_tickets >= 0 and held_tickets >= 0 and sold_tickets + held_tickets <= total_tickets`,
    )
    .execute();

  await db.schema.alterTable('purchases').dropConstraint('purchases_status_check').execute();
  await db.schema
    .alterTable('purchases')
    .addCheckConstraint(
      'purchases_status_check',
      sql`status in ('queued', 'held', 'confirmed', 'waitlisted', 'rejected', 'cancelled', 'expired')`,
    )
    .execute();
  await db.schema
    .alterTable('purchases')
    .addColumn('hold_expires_at', 'timestamptz')
    .addColumn('expire_seq', 'bigint')
    .execute();
  await db.schema
    .alterTable('purchases')
    .addCheckConstraint('purchases_held_has_expiry', sql`status <> 'held' or hold_expires_at is not null`)
    .execute();

  await db.schema
    .alterTable('bookings')
    .addColumn('payment_reference', 'text', (col) =>
      col.check(sql`char_length(payment_reference) between 1 and 200`),
    )
    .execute();

  // A held purchase is active: one per user, and its cancellations are found like any other.
  await indexActivePurchases(db, ['held', 'confirmed', 'waitlisted']);

  // The sweep for holds past their time reads only holds whose expiry has no place in the queue yet.
  await db.schema
    .createIndex('purchases_unnumbered_holds')
    .on('purchases')
    .column('hold_expires_at')
    .where(sql.ref('status'), '=', 'held')
    .where(sql.ref('expire_seq'), 'is', null)
    .execute();
  // Rounds look up, per event, the earliest expiry still to carry out.
  await db.schema
    .createIndex('purchases_pending_expiry')
    .on('purchases')
    .columns(['event_id', 'expire_seq'])
    .where(sql.ref('expire_seq'), 'is not', null)
    .where(sql.ref('status'), '=', 'held')
    .execute();
  // The sales report counts expired holds per event.
  await db.schema
    .createIndex('purchases_expired_by_event')
    .on('purchases')
    .column('event_id')
    .where(sql.ref('status'), '=', 'expired')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const index of [
    'purchases_expired_by_event',
    'purchases_pending_expiry',
    'purchases_unnumbered_holds',
  ])
    await db.schema.dropIndex(index).execute();
  await indexActivePurchases(db, ['confirmed', 'waitlisted']);
  await db.schema.alterTable('bookings').dropColumn('payment_reference').execute();
  await db.schema.alterTable('purchases').dropConstraint('purchases_held_has_expiry').execute();
  await db.schema.alterTable('purchases').dropColumn('expire_seq').dropColumn('hold_expires_at').execute();
  await db.schema.alterTable('purchases').dropConstraint('purchases_status_check').execute();
  await db.schema
    .alterTable('purchases')
    .addCheckConstraint(
      'purchases_status_check',
      sql`status in ('queued', 'confirmed', 'waitlisted', 'rejected', 'cancelled')`,
    )
    .execute();
  await db.schema.alterTable('events').dropConstraint('events_sold_and_held_within_total').execute();
  await db.schema
    .alterTable('events')
    .addCheckConstraint('events_sold_within_total', sql`sold_tickets between 0 and total_tickets`)
    .execute();
  await db.schema.alterTable('events').dropColumn('held_tickets').dropColumn('hold_seconds').execute();
}
