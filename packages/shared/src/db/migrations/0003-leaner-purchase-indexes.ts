import { sql, type Kysely } from 'kysely';

/**
 * Fewer index writes per purchase. A status change rewrites every index of the row, and each purchase
 * is written twice (accepted, then decided), so an index that serves a rare read costs on the hot path:
 * - `purchases_event_status` indexed every purchase by status, for counts of cancelled purchases (the
 *   sales report) and the seed-compatible cancel by user; a partial index of cancelled purchases serves
 *   the first, and the existing partial indexes (active per user, queued per event) the second.
 * - `cancel_seq` is null for all but cancelled purchases: its uniqueness now indexes only those.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('purchases_event_status').execute();
  await db.schema
    .createIndex('purchases_cancelled_by_event')
    .on('purchases')
    .column('event_id')
    .where(sql.ref('status'), '=', 'cancelled')
    .execute();
  await db.schema.alterTable('purchases').dropConstraint('purchases_cancel_seq_key').execute();
  await db.schema
    .createIndex('purchases_cancel_seq')
    .on('purchases')
    .column('cancel_seq')
    .unique()
    .where(sql.ref('cancel_seq'), 'is not', null)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('purchases_cancel_seq').execute();
  await db.schema
    .alterTable('purchases')
    .addUniqueConstraint('purchases_cancel_seq_key', ['cancel_seq'])
    .execute();
  await db.schema.dropIndex('purchases_cancelled_by_event').execute();
  await db.schema
    .createIndex('purchases_event_status')
    .on('purchases')
    .columns(['event_id', 'status'])
    .execute();
}
