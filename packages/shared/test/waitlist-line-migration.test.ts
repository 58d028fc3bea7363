import { randomUUID } from 'node:crypto';
import { Migrator, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { useUnmigratedDatabase } from '../src/testing/index.js';
import { migrateToLatest, migrations } from '../src/db/migrate.js';

const db = await useUnmigratedDatabase({ poolSize: 2 });

describe('numbering waiting lines (migration 0004)', () => {
  it('when lines are already waiting, then they keep their order, numbered from 1 per event', async () => {
    const provider = { getMigrations: () => Promise.resolve({ ...migrations }) };
    const { error } = await new Migrator({ db, provider }).migrateTo('0003-leaner-purchase-indexes');
    expect(error).toBeUndefined();
    const events = [randomUUID(), randomUUID()];
    for (const id of events) {
      await sql`insert into events (id, name, total_tickets, price_cents, currency, max_per_purchase)
        values (${id}, 'e', 1, 100, 'USD', 4)`.execute(db);
    }
    // Interleaved joins of two events' lines, as the global identity numbered them.
    const joined: { eventId: string; purchaseId: string }[] = [];
    for (let index = 0; index < 6; index += 1) {
      const eventId = events[index % 2] ?? '';
      const purchaseId = randomUUID();
      await sql`insert into purchases (id, event_id, user_id, quantity, join_waitlist, status)
        values (${purchaseId}, ${eventId}, ${`u${index}`}, 1, true, 'waitlisted')`.execute(db);
      await sql`insert into waitlist_entries (purchase_id, event_id, quantity)
        values (${purchaseId}, ${eventId}, 1)`.execute(db);
      joined.push({ eventId, purchaseId });
    }

    await migrateToLatest(db);

    for (const eventId of events) {
      const line = await db
        .selectFrom('waitlistEntries')
        .select(['purchaseId', 'lineNo'])
        .where('eventId', '=', eventId)
        .orderBy('lineNo')
        .execute();
      expect(line).toEqual(
        joined
          .filter((entry) => entry.eventId === eventId)
          .map((entry, index) => ({ purchaseId: entry.purchaseId, lineNo: index + 1 })),
      );
      const event = await db
        .selectFrom('events')
        .select(['waitlistHead', 'waitlistTail'])
        .where('id', '=', eventId)
        .executeTakeFirstOrThrow();
      expect(event).toEqual({ waitlistHead: 0, waitlistTail: 3 });
    }
  });
});
