import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.TICKETING_UNSAFE_SWITCHES = 'confirm-past-expiry';
});

import { auditDatabase } from '@ticketing/faults/books';
import { sleep } from '@ticketing/harness';
import { unsafeSwitches } from '@ticketing/shared';
import { httpHelpers } from '../support/http.js';
import { startTestSystem, type TestSystem } from '../support/test-system.js';

// Negative control of "a hold past its time is never confirmed" (docs/controls.md), whose own test is
// holds.test.ts ("a hold is past its time but its expiry was not carried out yet"): the same steps,
// with the confirmation no longer checking `holdExpiresAt` against the database's clock.

let system: TestSystem;
const { inject, createEvent, buy } = httpHelpers(() => system);
beforeAll(async () => {
  system = await startTestSystem();
});
afterAll(async () => {
  await system?.close();
});

describe('negative control: holds end when their time is up', () => {
  it('when a confirmation comes after the hold ran out, before its expiry is carried out, then the audit reports a hold confirmed too late', async () => {
    expect(unsafeSwitches['confirm-past-expiry']).toBe(true);
    const event = await createEvent({ totalTickets: 1, holdSeconds: 1 });
    const held = (await buy(event.id, { userId: 'p1' })) as { purchaseId: string; holdExpiresAt?: string };
    // No worker, so no sweep carries the expiry out first (the status check would refuse then).
    await system.stopWorker();
    try {
      await sleep(Math.max(0, Date.parse(held.holdExpiresAt ?? '') - Date.now()) + 50);
      const late = await inject({ method: 'POST', url: `/purchases/${held.purchaseId}/confirm` });
      expect(late.statusCode).toBe(200);
    } finally {
      await system.startWorker();
    }

    const accepted = new Map([[held.purchaseId, { purchaseId: held.purchaseId, eventId: event.id }]]);
    const books = await auditDatabase(
      system.config.databaseUrl,
      { accepted, duplicated: 0, rejected: [] },
      { fifo: false },
    );
    expect(books.violations).toEqual(['1 holds confirmed after they ran out']);
  });
});
