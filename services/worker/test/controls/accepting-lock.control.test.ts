import { describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.TICKETING_UNSAFE_SWITCHES = 'no-accepting-lock';
});

import { unsafeSwitches, useTestDatabase } from '@ticketing/shared/testing';
import { acceptWhileDeciding } from './accepting-race.js';
import { auditControl } from './control-books.js';

// Negative control of "strict queue order" (docs/controls.md), whose own tests are the api's
// accepting-order.test.ts (numbers become visible in order), concurrency.test.ts and every fault
// scenario's FIFO audit; without-switches.test.ts runs the same scenario with the lock.

const { db, environment, newPool } = await useTestDatabase({ poolSize: 12 });
/** The worker's own connection, so that it decides as often as it can while the inserts run. */
const workerDb = newPool(1);

describe('negative control: strict queue order', () => {
  it('when batches are numbered without the accepting lock while a worker decides, then the audit reports decisions out of queue order', async () => {
    expect(unsafeSwitches['no-accepting-lock']).toBe(true);
    const purchases = await acceptWhileDeciding(db, workerDb);
    const books = await auditControl(environment, purchases, { fifo: true });
    expect(books.final).toBe(purchases.length);
    expect(books.violations).toContainEqual(expect.stringMatching(/not decided in queue order/));
  });
});
