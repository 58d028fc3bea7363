import { describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.TICKETING_UNSAFE_SWITCHES = 'waitlist-skips-head';
});

import { unsafeSwitches } from '@ticketing/shared';
import { useTestSystem } from '../support/test-system.js';
import { cancelAfterSellOut, cancellingLoadClient } from './scenarios.js';

// Negative control of the waiting list's order (docs/controls.md), whose own test is
// concurrency.test.ts ("cancellations then promote the head of the line, strictly in order"): a
// sold-out event, cancellations, and promotion that starts one place behind the head of the line.

const system = await useTestSystem();

describe('negative control: the waiting list is promoted in order', () => {
  it('when promotion skips the head of the line, then the audit reports a waiting-list place passed over', async () => {
    expect(unsafeSwitches['waitlist-skips-head']).toBe(true);
    const books = await cancelAfterSellOut(system);
    expect(books.violations).toContainEqual(
      expect.stringMatching(
        /not decided in queue order: #\d+ by draw and seq is waitlisted, expected confirmed/,
      ),
    );
  });

  it('when the load client cancels some of its purchases on a sold-out event, then its audit through the API reports the line out of order too', async () => {
    const result = await cancellingLoadClient(system);
    expect(result.errors, result.errorSamples.join('\n')).toBe(0);
    expect(result.audit.ok).toBe(false);
    expect(result.audit.violations).toContainEqual(
      expect.stringMatching(/waitlist positions are not exactly 1\.\.\d+/),
    );
  });
});
