import { describe, expect, it } from 'vitest';
import { unsafeSwitches, useTestDatabase } from '@ticketing/shared/testing';
import { auditControl } from './control-books.js';
import { decideInOverlappingRounds, sameDecisions, staleCounts } from './overlapping-rounds.js';
import { resizeAmidPurchases } from './resize-books.js';

// The negative controls' own scenarios with every switch off and every constraint in place: nothing
// is refused and the audit is clean, so what the controls see comes from what their switches take
// away (docs/controls.md). The accepting lock's races run through the api: services/api/test/controls.

const { db, environment } = await useTestDatabase({ poolSize: 12 });

describe('the controls without their switches', () => {
  it('when no switch is on, then none is', () => {
    expect(Object.values(unsafeSwitches)).not.toContain(true);
  });

  it('when rounds overlap on stale counts (tickets sold or held) or on the same purchases, then the event lock makes them take turns', async () => {
    for (const overlap of [staleCounts(5, 30), staleCounts(5, 30, 600), sameDecisions(10, 4)]) {
      const { purchases, errors } = await decideInOverlappingRounds(db, overlap);
      expect(errors).toEqual([]);
      expect((await auditControl(environment, purchases, { fifo: true })).violations).toEqual([]);
    }
  });

  it('when a resize comes amid purchases, then each is decided on the size at its number', async () => {
    expect((await resizeAmidPurchases(db)).wrong).toEqual([]);
  });
});
