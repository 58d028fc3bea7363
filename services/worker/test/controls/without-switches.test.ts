import { describe, expect, it } from 'vitest';
import { unsafeSwitches, useTestDatabase } from '@ticketing/shared/testing';
import { acceptWhileDeciding } from './accepting-race.js';
import { auditControl } from './control-books.js';
import { decideInOverlappingRounds, sameDecisions, staleCounts } from './overlapping-rounds.js';

// The negative controls' own scenarios with every switch off and every constraint in place: nothing
// is refused and the audit is clean, so what the controls see comes from what their switches take
// away (docs/controls.md).

const { db, environment, newPool } = await useTestDatabase({ poolSize: 12 });
const workerDb = newPool(1);

describe('the controls without their switches', () => {
  it('when no switch is on, then none is', () => {
    expect(Object.values(unsafeSwitches)).not.toContain(true);
  });

  it('when rounds overlap on stale counts or on the same purchases, then the event lock makes them take turns', async () => {
    for (const overlap of [staleCounts(5, 30), sameDecisions(10, 4)]) {
      const { purchases, errors } = await decideInOverlappingRounds(db, overlap);
      expect(errors).toEqual([]);
      expect((await auditControl(environment, purchases, { fifo: true })).violations).toEqual([]);
    }
  });

  it('when batches are accepted while a worker decides, then the accepting lock keeps the queue order', async () => {
    const purchases = await acceptWhileDeciding(db, workerDb);
    expect((await auditControl(environment, purchases, { fifo: true })).violations).toEqual([]);
  });
});
