import { sql } from 'kysely';
import { describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.TICKETING_UNSAFE_SWITCHES = 'no-event-lock';
});

import { unsafeSwitches, useTestDatabase } from '@ticketing/shared/testing';
import { auditControl } from './control-books.js';
import { decideInOverlappingRounds, sameDecisions, staleCounts } from './overlapping-rounds.js';

// The layers under the event lock (docs/controls.md): without the lock, overlapping rounds decide on
// stale counts or decide the same purchases, and what refuses them is, in turn, the conditional
// `sold + held + n <= total` update, the bookings' unique purchase id, and (with that dropped in this
// test's own database) the check that a purchase is still queued. The books stay exact throughout.

const { db, environment } = await useTestDatabase({ poolSize: 12 });

describe('negative control: the event lock', () => {
  it('when rounds overlap without the event lock, then the conditional update refuses the oversell and the books stay exact', async () => {
    expect(unsafeSwitches['no-event-lock']).toBe(true);
    const { purchases, errors } = await decideInOverlappingRounds(db, staleCounts(5, 30));
    expect(
      errors.some((error) => error.startsWith('Refusing to oversell')),
      errors.join('\n'),
    ).toBe(true);
    expect((await auditControl(environment, purchases, { fifo: true })).violations).toEqual([]);
  });

  it("when rounds decide the same purchases without the event lock, then the bookings' unique key refuses the second booking", async () => {
    const { purchases, errors } = await decideInOverlappingRounds(db, sameDecisions(10, 4));
    expect(
      errors.some((error) => error.includes('bookings_purchase_id_key')),
      errors.join('\n'),
    ).toBe(true);
    expect((await auditControl(environment, purchases, { fifo: true })).violations).toEqual([]);
  });

  it('when the unique key is gone too, then the check that a purchase is still queued refuses the second decision', async () => {
    await sql`alter table bookings drop constraint bookings_purchase_id_key`.execute(db);
    const { purchases, errors } = await decideInOverlappingRounds(db, sameDecisions(10, 4));
    expect(
      errors.some((error) => error.startsWith('Expected 10 purchases in status queued')),
      errors.join('\n'),
    ).toBe(true);
    expect((await auditControl(environment, purchases, { fifo: true })).violations).toEqual([]);
  });
});
