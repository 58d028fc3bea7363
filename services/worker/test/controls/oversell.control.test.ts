import { sql } from 'kysely';
import { describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.TICKETING_UNSAFE_SWITCHES = 'no-event-lock,unconditional-allotment';
});

import { unsafeSwitches, useTestDatabase } from '@ticketing/shared/testing';
import { auditControl } from './control-books.js';
import { decideInOverlappingRounds, staleCounts } from './overlapping-rounds.js';

// Negative control of "never oversold" (docs/controls.md), whose own tests are idempotency.test.ts
// ("two workers run the same jobs at once") and the fault suite's zombie worker: rounds overlap as a
// zombie's would, without the event row lock and the conditional update. The CHECK still stands,
// then is dropped in this test's own database.

const { db, environment } = await useTestDatabase({ poolSize: 12 });

describe('negative control: never oversold', () => {
  it('when rounds overlap without the event lock and the conditional update, then only the CHECK refuses the oversell', async () => {
    expect(unsafeSwitches['no-event-lock'] && unsafeSwitches['unconditional-allotment']).toBe(true);
    const { purchases, errors } = await decideInOverlappingRounds(db, staleCounts(5, 30));
    expect(
      errors.some((error) => error.includes('events_sold_and_held_within_total')),
      errors.join('\n'),
    ).toBe(true);
    expect((await auditControl(environment, purchases, { fifo: true })).violations).toEqual([]);
  });

  it('when the CHECK is gone too, then the audit reports an oversell and a purchase confirmed out of queue order', async () => {
    await sql`alter table events drop constraint events_sold_and_held_within_total`.execute(db);
    const { purchases } = await decideInOverlappingRounds(db, staleCounts(5, 30));
    const books = await auditControl(environment, purchases, { fifo: true });
    expect(books.final).toBe(30);
    expect(books.oversold).toBeGreaterThan(0);
    expect(books.violations).toContain(`${books.oversold} tickets oversold`);
    // A purchase behind the first five by queue order got a ticket they had taken.
    expect(books.violations).toContainEqual(
      expect.stringMatching(
        /not decided in queue order: #\d+ by draw and seq is confirmed, expected waitlisted/,
      ),
    );
  });

  it('when the CHECK is gone and the tickets are held for payment, then the audit reports held tickets beyond the total', async () => {
    const { purchases } = await decideInOverlappingRounds(db, staleCounts(5, 30, 600));
    const eventId = purchases[0]?.eventId ?? '';
    const books = await auditControl(environment, purchases, { fifo: true });
    // No hold was paid: this event sold nothing and held more than its total.
    const event = await db
      .selectFrom('events')
      .select(['soldTickets', 'heldTickets'])
      .where('id', '=', eventId)
      .executeTakeFirstOrThrow();
    expect(event).toMatchObject({ soldTickets: 0, heldTickets: expect.any(Number) });
    expect(event.heldTickets).toBeGreaterThan(5);
    // The audit reads every event of the database: the earlier test's sold beyond its total, and
    // this one's held beyond its total.
    const { rows } = await sql<{ soldBeyond: number; takenBeyond: number }>`
      select sum(greatest(sold_tickets - total_tickets, 0))::int as "soldBeyond",
        sum(greatest(sold_tickets + held_tickets - total_tickets, 0))::int as "takenBeyond"
      from events`.execute(db);
    expect(books.oversold).toBe(rows[0]?.takenBeyond);
    expect(books.oversold).toBe((rows[0]?.soldBeyond ?? 0) + event.heldTickets - 5);
    expect(books.violations).toContain(`${books.oversold} tickets oversold`);
    expect(books.violations).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^event ${eventId}: not decided in queue order: #\\d+ by draw and seq is held, expected waitlisted$`,
        ),
      ),
    );
  });
});
