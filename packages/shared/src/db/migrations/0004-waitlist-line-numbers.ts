import { sql, type Kysely } from 'kysely';

/**
 * Waiting-list positions in O(log n) instead of a count of every entry ahead. Each entry gets its
 * event's next line number when it joins (`line_no`, dense per event: the event's `waitlist_tail` is
 * the last one given). Entries leave the line in two ways:
 * - promoted, always a prefix of the line: `waitlist_head` moves to the last line number promoted,
 *   and every entry at or before it has left;
 * - from the middle (a waiting purchase cancelled, which is rare): its line number is kept in
 *   `waitlist_departures` until the head passes it.
 * An entry's position is then `line_no - waitlist_head - (departures between the head and it)`, and
 * the line's length `waitlist_tail - waitlist_head - (departures)`: index lookups, however long the
 * line. The global `seq` that ordered the line before is no longer needed (one index fewer to write).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('events')
    .addColumn('waitlist_tail', 'bigint', (col) => col.notNull().defaultTo(0))
    .addColumn('waitlist_head', 'bigint', (col) => col.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('events')
    .addCheckConstraint('events_waitlist_head_within_tail', sql`waitlist_head between 0 and waitlist_tail`)
    .execute();
  await db.schema.alterTable('waitlist_entries').addColumn('line_no', 'bigint').execute();
  // Lines already waiting keep their order, numbered from 1.
  await sql`
    update waitlist_entries w set line_no = numbered.line_no
    from (
      select purchase_id, row_number() over (partition by event_id order by seq) as line_no
      from waitlist_entries
    ) numbered
    where numbered.purchase_id = w.purchase_id`.execute(db);
  await sql`
    update events e set waitlist_tail = lines.tail
    from (select event_id, max(line_no) as tail from waitlist_entries group by event_id) lines
    where lines.event_id = e.id`.execute(db);
  await db.schema
    .alterTable('waitlist_entries')
    .alterColumn('line_no', (col) => col.setNotNull())
    .execute();
  await db.schema.dropIndex('waitlist_entries_event_seq').execute();
  await db.schema.alterTable('waitlist_entries').dropColumn('seq').execute();
  await db.schema
    .createIndex('waitlist_entries_event_line')
    .on('waitlist_entries')
    .columns(['event_id', 'line_no'])
    .unique()
    .execute();
  await db.schema
    .createTable('waitlist_departures')
    .addColumn('event_id', 'uuid', (col) => col.notNull().references('events.id'))
    .addColumn('line_no', 'bigint', (col) => col.notNull())
    .addPrimaryKeyConstraint('waitlist_departures_pkey', ['event_id', 'line_no'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('waitlist_departures').execute();
  await db.schema.dropIndex('waitlist_entries_event_line').execute();
  await db.schema
    .alterTable('waitlist_entries')
    .addColumn('seq', 'bigint', (col) => col.generatedAlwaysAsIdentity().unique())
    .execute();
  await db.schema
    .createIndex('waitlist_entries_event_seq')
    .on('waitlist_entries')
    .columns(['event_id', 'seq'])
    .execute();
  await db.schema.alterTable('waitlist_entries').dropColumn('line_no').execute();
  await db.schema.alterTable('events').dropConstraint('events_waitlist_head_within_tail').execute();
  await db.schema.alterTable('events').dropColumn('waitlist_head').dropColumn('waitlist_tail').execute();
}
