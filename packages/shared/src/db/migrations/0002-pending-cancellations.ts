import { sql, type Kysely } from 'kysely';

/**
 * Workers look up, per event, the earliest cancellation still to carry out (and scan for events that
 * have one). Without this index each lookup reads every cancellation ever requested.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('purchases_pending_cancellation')
    .on('purchases')
    .columns(['event_id', 'cancel_seq'])
    .where(sql.ref('cancel_seq'), 'is not', null)
    .where(sql.ref('status'), 'in', sql`('queued', 'confirmed', 'waitlisted')`)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('purchases_pending_cancellation').execute();
}
