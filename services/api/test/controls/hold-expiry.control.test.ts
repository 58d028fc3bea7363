import { describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.TICKETING_UNSAFE_SWITCHES = 'confirm-past-expiry';
});

import { unsafeSwitches } from '@ticketing/shared';
import { useTestSystem } from '../support/test-system.js';
import { confirmAfterHoldRanOut } from './scenarios.js';

// Negative control of "a hold past its time is never confirmed" (docs/controls.md), whose own test is
// holds.test.ts ("a hold is past its time but its expiry was not carried out yet"): the same steps,
// with the confirmation no longer checking `holdExpiresAt` against the database's clock.

const system = await useTestSystem();

describe('negative control: holds end when their time is up', () => {
  it('when a confirmation comes after the hold ran out, before its expiry is carried out, then the audit reports a hold confirmed too late', async () => {
    expect(unsafeSwitches['confirm-past-expiry']).toBe(true);
    const { statusCode, books } = await confirmAfterHoldRanOut(system);
    expect(statusCode).toBe(200);
    expect(books.violations).toEqual(['1 holds confirmed after they ran out']);
  });
});
