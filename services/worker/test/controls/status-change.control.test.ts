import { sql } from 'kysely';
import { describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.TICKETING_UNSAFE_SWITCHES = 'no-event-lock,any-prior-status';
});

import { unsafeSwitches, useTestDatabase } from '@ticketing/shared/testing';
import { auditControl } from './control-books.js';
import { decideInOverlappingRounds, sameDecisions } from './overlapping-rounds.js';

// Negative control of "no double booking" by re-run jobs (docs/controls.md), whose own tests are
// idempotency.test.ts ("the same job runs twice", "two workers run the same jobs at once") and the
// fault suite's zombie worker: rounds that decide the same purchases at once, without the event lock
// and without the check that a purchase is still queued; in this test's own database, the bookings'
// unique purchase id stands, then is dropped.

const { db, environment } = await useTestDatabase({ poolSize: 12 });

describe('negative control: only still-queued purchases are decided', () => {
  it("when rounds decide the same purchases without the lock and the status check, then only the bookings' unique key refuses", async () => {
    expect(unsafeSwitches['no-event-lock'] && unsafeSwitches['any-prior-status']).toBe(true);
    const { purchases, errors } = await decideInOverlappingRounds(db, sameDecisions(10, 4));
    expect(
      errors.some((error) => error.includes('bookings_purchase_id_key')),
      errors.join('\n'),
    ).toBe(true);
    expect((await auditControl(environment, purchases, { fifo: true })).violations).toEqual([]);
  });

  it('when the unique key is gone too, then the audit reports purchases booked twice and sold differing from confirmed quantities', async () => {
    await sql`alter table bookings drop constraint bookings_purchase_id_key`.execute(db);
    const { purchases } = await decideInOverlappingRounds(db, sameDecisions(10, 4));
    const books = await auditControl(environment, purchases, { fifo: true });
    expect(books.duplicated).toBeGreaterThan(0);
    expect(books.violations).toContainEqual(
      expect.stringMatching(/duplicates: [1-9]\d* purchases booked twice/),
    );
    // Each second decision counted its tickets again, on a purchase confirmed once.
    expect(books.violations).toContainEqual(
      expect.stringMatching(/: sold (\d+), confirmed quantities (?!\1\b)\d+$/),
    );
  });
});
