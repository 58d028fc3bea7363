import { sql, type Kysely } from 'kysely';

/**
 * The on-sale moment (docs/on-sale.md). An event may have a sale window (`sales_start_at`,
 * `sales_end_at`, `pre_queue_opens_at`); one with a start has a secret draw seed and its commitment
 * from creation. Purchases accepted before the start are `prequeued` with their draw key (HMAC of the
 * seed and the purchase id, computed by the api), and at the start the worker decides them in
 * ascending key: the draw is fixed by the keys, so the start only reveals it. The event row records
 * the draw: when it was made and with how many entrants (`drawn_at`, `draw_entrants`), how far it has
 * been decided (`draw_cursor`, the last key decided) and when every entrant was (`draw_finished_at`).
 */
const STATUSES_BEFORE = ['queued', 'held', 'confirmed', 'waitlisted', 'rejected', 'cancelled', 'expired'];

const statusCheck = (statuses: readonly string[]) =>
  sql`status in (${sql.join(statuses.map((status) => sql.lit(status)))})`;

async function indexPendingCancellations(db: Kysely<unknown>, statuses: readonly string[]): Promise<void> {
  await db.schema.dropIndex('purchases_pending_cancellation').execute();
  await db.schema
    .createIndex('purchases_pending_cancellation')
    .on('purchases')
    .columns(['event_id', 'cancel_seq'])
    .where(sql.ref('cancel_seq'), 'is not', null)
    .where(sql.ref('status'), 'in', sql`(${sql.join(statuses.map((status) => sql.lit(status)))})`)
    .execute();
}

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('events')
    .addColumn('sales_start_at', 'timestamptz')
    .addColumn('sales_end_at', 'timestamptz')
    .addColumn('pre_queue_opens_at', 'timestamptz')
    .addColumn('draw_seed', 'bytea')
    .addColumn('draw_commitment', 'text')
    .addColumn('drawn_at', 'timestamptz')
    .addColumn('draw_entrants', 'integer')
    .addColumn('draw_cursor', 'text')
    .addColumn('draw_finished_at', 'timestamptz')
    .execute();
  await db.schema
    .alterTable('events')
    .addCheckConstraint(
      'events_sale_window',
      sql`(sales_start_at is null or sales_end_at is null or sales_start_at < sales_end_at)
        and (pre_queue_opens_at is null or (sales_start_at is not null and pre_queue_opens_at <= sales_start_at))`,
    )
    .execute();
  // A start always comes with its seed and commitment, and a draw only with a start.
  await db.schema
    .alterTable('events')
    .addCheckConstraint(
      'events_draw_seeded',
      sql`(sales_start_at is null) = (draw_seed is null) and (draw_seed is null) = (draw_commitment is null)
        and (drawn_at is null or sales_start_at is not null)`,
    )
    .execute();
  // The scan's way to the events whose start has come and whose pre-queue is not all decided yet.
  await db.schema
    .createIndex('events_draw_pending')
    .on('events')
    .column('sales_start_at')
    .where(sql.ref('sales_start_at'), 'is not', null)
    .where(sql.ref('draw_finished_at'), 'is', null)
    .execute();

  await db.schema.alterTable('purchases').dropConstraint('purchases_status_check').execute();
  await db.schema
    .alterTable('purchases')
    .addCheckConstraint('purchases_status_check', statusCheck(['prequeued', ...STATUSES_BEFORE]))
    .execute();
  await db.schema
    .alterTable('purchases')
    // Byte order whatever the database's collation: the drawn order is ascending key as bytes, the order
    // every buyer's check sorts by.
    .addColumn('draw_key', sql`text collate "C"`, (col) => col.check(sql`draw_key ~ '^[0-9a-f]{64}$'`))
    .execute();
  await db.schema
    .alterTable('purchases')
    .addCheckConstraint('purchases_prequeued_has_key', sql`status <> 'prequeued' or draw_key is not null`)
    .execute();
  // At most one pre-queue entry per buyer and event: a second is `409 already_queued`.
  await db.schema
    .createIndex('purchases_one_prequeued_per_user')
    .on('purchases')
    .columns(['event_id', 'user_id'])
    .unique()
    .where(sql.ref('status'), '=', 'prequeued')
    .execute();
  // A pre-queued purchase cancelled after the start is carried out in queue order like a queued one.
  await indexPendingCancellations(db, ['prequeued', 'queued', 'held', 'confirmed', 'waitlisted']);
  // Rounds decide the pre-queue in ascending draw key, from the last key decided on.
  await db.schema
    .createIndex('purchases_prequeued_by_key')
    .on('purchases')
    .columns(['event_id', 'draw_key'])
    .where(sql.ref('status'), '=', 'prequeued')
    .execute();
  // The draw's published keys: every entrant, decided or not (a pre-queue cancellation drops its key).
  await db.schema
    .createIndex('purchases_draw_entrants')
    .on('purchases')
    .columns(['event_id', 'draw_key'])
    .where(sql.ref('draw_key'), 'is not', null)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await indexPendingCancellations(db, ['queued', 'held', 'confirmed', 'waitlisted']);
  for (const index of [
    'purchases_draw_entrants',
    'purchases_prequeued_by_key',
    'purchases_one_prequeued_per_user',
  ])
    await db.schema.dropIndex(index).execute();
  await db.schema.alterTable('purchases').dropConstraint('purchases_prequeued_has_key').execute();
  await db.schema.alterTable('purchases').dropColumn('draw_key').execute();
  await db.schema.alterTable('purchases').dropConstraint('purchases_status_check').execute();
  await db.schema
    .alterTable('purchases')
    .addCheckConstraint('purchases_status_check', statusCheck(STATUSES_BEFORE))
    .execute();
  await db.schema.dropIndex('events_draw_pending').execute();
  await db.schema.alterTable('events').dropConstraint('events_draw_seeded').execute();
  await db.schema.alterTable('events').dropConstraint('events_sale_window').execute();
  await db.schema
    .alterTable('events')
    .dropColumn('draw_finished_at')
    .dropColumn('draw_cursor')
    .dropColumn('draw_entrants')
    .dropColumn('drawn_at')
    .dropColumn('draw_commitment')
    .dropColumn('draw_seed')
    .dropColumn('pre_queue_opens_at')
    .dropColumn('sales_end_at')
    .dropColumn('sales_start_at')
    .execute();
}
