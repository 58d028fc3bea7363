import { sql } from 'kysely';
import { beforeAll, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.TICKETING_UNSAFE_SWITCHES = 'no-idempotency-conflict';
});

import { unsafeSwitches } from '@ticketing/shared';
import { useTestSystem } from '../support/test-system.js';
import { resendingBuyers } from './scenarios.js';

// Negative control of "no double booking" by client retries (docs/controls.md), whose own tests are
// purchases.test.ts (a retry with the same Idempotency-Key, racing retries) and every fault
// scenario's buyers: the same buyers, against an api that inserts without skipping a known key, on a
// database without the unique index that would refuse the second purchase.

const system = await useTestSystem();
beforeAll(async () => {
  await sql`drop index purchases_event_idempotency_key`.execute(system.deps.db);
});

describe('negative control: idempotency keys', () => {
  it('when purchases are stored without the idempotency conflict and its index, then the audit reports keys holding two purchases', async () => {
    expect(unsafeSwitches['no-idempotency-conflict']).toBe(true);
    const { buyers, books } = await resendingBuyers(system);
    // Every tenth buyer sent its purchase twice, and got a second purchase for the same key.
    expect(buyers.duplicated).toBe(20);
    expect(books.violations).toContainEqual(
      expect.stringMatching(/duplicates: .* 20 keys with two purchases, .* 20 keys answered with two ids/),
    );
  });
});
