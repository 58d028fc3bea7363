import { describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.TICKETING_UNSAFE_SWITCHES = 'resize-at-once';
});

import { unsafeSwitches } from '@ticketing/shared';
import { useTestSystem } from '../support/test-system.js';
import { resizeBehindQueuedPurchases, resizingLoadClient } from './scenarios.js';

// Negative control of a resize's place in the queue (docs/controls.md, docs/running-a-sale.md), whose
// own tests are services/worker/test's resizes racing a burst and the fault suite's resizes under
// kill -9: a change of total carried out when it is asked for, so that purchases numbered before it
// are decided on the new total.

const system = await useTestSystem();

describe('negative control: a resize takes its place in the queue', () => {
  it('when a resize is carried out at once, then the fault audit reports purchases decided on the wrong size', async () => {
    expect(unsafeSwitches['resize-at-once']).toBe(true);
    const books = await resizeBehindQueuedPurchases(system);
    const wrongSize = books.violations.filter((violation) =>
      /\d+ purchases decided on the wrong size \(or out of queue order\)/.test(violation),
    );
    // Both events: the shrink left purchases before it waiting, the growth confirmed some of them.
    expect(wrongSize, books.violations.join('\n')).toHaveLength(2);
    expect(books.violations).toContainEqual(
      expect.stringMatching(
        /the resize numbered \d+ \(to 15\) gave 15 tickets; its turn found 20 taken, so 20/,
      ),
    );
  });

  it('when the load client shrinks its sale while it is paused, then its audit through the API reports purchases decided on the wrong size too', async () => {
    const result = await resizingLoadClient(system);
    expect(result.errors, result.errorSamples.join('\n')).toBe(0);
    const resize = result.saleOperations?.done.find((operation) => operation.kind === 'resize');
    expect(resize).toMatchObject({ totalTickets: 30 });
    expect(resize).not.toHaveProperty('refused');
    expect(result.audit.ok).toBe(false);
    expect(result.audit.violations).toContainEqual(
      expect.stringMatching(/purchases decided on the wrong size: the \d+ accepted before the resize to 30/),
    );
  });
});
