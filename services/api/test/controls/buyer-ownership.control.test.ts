import { describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.TICKETING_UNSAFE_SWITCHES = 'any-buyer';
});

import { unsafeSwitches } from '@ticketing/shared';
import { useTestSystem } from '../support/test-system.js';
import { reachForAnothersPurchase, BUYER_TOKEN_SYSTEM } from './scenarios.js';

// Negative control of "another buyer's purchase does not exist for them" (docs/controls.md), whose
// own test is buyer-tokens.test.ts ("one buyer reaches for another's purchase through any route"):
// the same reach, with the routes on one purchase no longer checking whose it is. The books audit
// cannot see this (a cancellation by the wrong buyer is a cancellation like any other): the check is
// what the other buyer gets and what happens to the owner's purchase.

const system = await useTestSystem(...BUYER_TOKEN_SYSTEM);

describe('negative control: buyers own their purchases', () => {
  it('when routes on one purchase do not check its buyer, then another buyer reads and cancels it', async () => {
    expect(unsafeSwitches['any-buyer']).toBe(true);
    const { read, cancelStatusCode, cancelRequested } = await reachForAnothersPurchase(system);
    expect(read.statusCode).toBe(200);
    expect(read.body).toMatchObject({ userId: 'alice', status: 'confirmed' });
    expect(cancelStatusCode).toBe(202);
    expect(cancelRequested).toBe(true);
  });
});
