import { describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.TICKETING_UNSAFE_SWITCHES = 'prequeue-arrival-order';
});

import { unsafeSwitches } from '@ticketing/shared';
import { useTestSystem } from '../support/test-system.js';
import { preQueueThenStart } from './scenarios.js';

// Negative control of the draw's order (docs/controls.md), whose own test is on-sale.test.ts ("at the
// start they are decided in the published draw order"): the pre-queue decided in arrival order.

const system = await useTestSystem();

describe('negative control: the pre-queue is decided in the draw', () => {
  it('when the pre-queue is decided in arrival order, then the audit reports decisions out of the draw order', async () => {
    expect(unsafeSwitches['prequeue-arrival-order']).toBe(true);
    const books = await preQueueThenStart(system);
    expect(books.violations).toContainEqual(
      expect.stringMatching(/not decided in queue order: #\d+ by draw and seq is/),
    );
  });
});
