import { SignJWT } from 'jose';
import { describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.TICKETING_UNSAFE_SWITCHES = 'any-buyer';
});

import { unsafeSwitches } from '@ticketing/shared';
import { httpHelpers, type PurchaseBody } from '../support/http.js';
import { useTestSystem } from '../support/test-system.js';

// Negative control of "another buyer's purchase does not exist for them" (docs/controls.md), whose
// own test is buyer-tokens.test.ts ("one buyer reaches for another's purchase through any route"):
// the same reach, with the routes on one purchase no longer checking whose it is. The books audit
// cannot see this (a cancellation by the wrong buyer is a cancellation like any other): the check is
// what the buyer who owns the purchase sees.

const SECRET = 'a-shop-back-end-secret-of-32-chars-or-more';
const bearer = async (sub: string) => ({
  authorization: `Bearer ${await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(SECRET))}`,
});

const system = await useTestSystem({ BUYER_JWT_SECRET: SECRET });
const { inject, createEvent } = httpHelpers(() => system);

describe('negative control: buyers own their purchases', () => {
  it('when routes on one purchase do not check its buyer, then another buyer reads and cancels it', async () => {
    expect(unsafeSwitches['any-buyer']).toBe(true);
    const event = await createEvent({ totalTickets: 5 });
    const bought = await inject({
      method: 'POST',
      url: `/events/${event.id}/purchases`,
      headers: await bearer('alice'),
      payload: {},
    });
    expect(bought.statusCode).toBe(202);
    const { purchaseId } = bought.json<PurchaseBody>();
    const mallory = await bearer('mallory');

    const read = await inject({
      method: 'GET',
      url: `/purchases/${purchaseId}?waitMs=5000`,
      headers: mallory,
    });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({ userId: 'alice', status: 'confirmed' });
    const cancelled = await inject({
      method: 'POST',
      url: `/purchases/${purchaseId}/cancel`,
      headers: mallory,
    });
    expect(cancelled.statusCode).toBe(202);
    const row = await system.deps.db
      .selectFrom('purchases')
      .select('cancelRequestedAt')
      .where('id', '=', purchaseId)
      .executeTakeFirstOrThrow();
    expect(row.cancelRequestedAt).not.toBeNull();
  });
});
