import { describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.TICKETING_UNSAFE_SWITCHES = 'resize-at-once';
});

import { unsafeSwitches, useTestDatabase } from '@ticketing/shared/testing';
import { resizeAmidPurchases, wrongSizeViolations } from './resize-books.js';

// Negative control of "a resize takes its place in the queue" (docs/controls.md), whose own tests are
// running-a-sale.test.ts (a resize racing a burst, replayed by seq): the total changes when the resize
// is asked for, not when its turn comes.

const { db } = await useTestDatabase({ poolSize: 4 });

describe('negative control: a resize is carried out in queue order', () => {
  it('when a resize is applied at once, then the audit reports purchases numbered before it decided on the new size', async () => {
    expect(unsafeSwitches['resize-at-once']).toBe(true);
    const { resizeSeq, wrong } = await resizeAmidPurchases(db);
    expect(wrongSizeViolations(wrong)).toEqual([
      expect.stringMatching(/^6 purchases decided on the wrong size: /),
    ]);
    // Three numbered before it got tickets that were not there yet; three after it lost them.
    expect(
      wrong.filter((purchase) => purchase.seq < resizeSeq && purchase.status === 'confirmed'),
    ).toHaveLength(3);
    expect(
      wrong.filter((purchase) => purchase.seq > resizeSeq && purchase.status === 'rejected'),
    ).toHaveLength(3);
  });
});
