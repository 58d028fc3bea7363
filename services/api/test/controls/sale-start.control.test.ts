import { describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.TICKETING_UNSAFE_SWITCHES = 'decide-before-start';
});

import { unsafeSwitches } from '@ticketing/shared';
import { useTestSystem } from '../support/test-system.js';
import { preQueueThenStart } from './scenarios.js';

// Negative control of "nothing is decided before the sale start" (docs/controls.md), whose own test is
// on-sale.test.ts ("nothing is decided before the start"): pre-queued purchases get jobs, and rounds
// no longer check the start against Postgres's clock.

const system = await useTestSystem();

describe('negative control: nothing is decided before the sale start', () => {
  it('when rounds do not check the start, then the audit reports purchases decided and a draw made before it', async () => {
    expect(unsafeSwitches['decide-before-start']).toBe(true);
    const books = await preQueueThenStart(system);
    expect(books.violations).toContainEqual(
      expect.stringMatching(/: \d+ purchases decided before the sale start$/),
    );
    expect(books.violations).toContainEqual(
      expect.stringMatching(/the draw was made before the sale start$/),
    );
  });
});
