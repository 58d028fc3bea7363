import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.TICKETING_UNSAFE_SWITCHES = 'waitlist-skips-head';
});

import { auditDatabase } from '@ticketing/faults/books';
import { loadOptions, runLoad } from '@ticketing/loadtest';
import { unsafeSwitches } from '@ticketing/shared';
import { waitUntilNothingQueued } from '@ticketing/shared/testing';
import { httpHelpers } from '../support/http.js';
import { startTestSystem, type TestSystem } from '../support/test-system.js';

// Negative control of the waiting list's order (docs/controls.md), whose own test is
// concurrency.test.ts ("cancellations then promote the head of the line, strictly in order"): a
// sold-out event, cancellations, and promotion that starts one place behind the head of the line.

let system: TestSystem;
const { createEvent, submit, cancel, poll } = httpHelpers(() => system);
beforeAll(async () => {
  system = await startTestSystem();
});
afterAll(async () => {
  await system?.close();
});

const TICKETS = 10;
const BUYERS = 30;

describe('negative control: the waiting list is promoted in order', () => {
  it('when promotion skips the head of the line, then the audit reports a waiting-list place passed over', async () => {
    expect(unsafeSwitches['waitlist-skips-head']).toBe(true);
    const event = await createEvent({ totalTickets: TICKETS });
    const purchases = await Promise.all(
      Array.from({ length: BUYERS }, (_, index) => submit(event.id, { userId: `buyer-${index}` })),
    );
    await waitUntilNothingQueued(system.deps.db, event.id);
    const accepted = new Map(
      purchases.map((purchase) => [
        purchase.purchaseId,
        { purchaseId: purchase.purchaseId, eventId: event.id },
      ]),
    );
    const buyers = { accepted, duplicated: 0, rejected: [] };
    // Before any cancellation the books are exact: the first in the queue got the tickets.
    expect((await auditDatabase(system.config.databaseUrl, buyers, { fifo: true })).violations).toEqual([]);

    const confirmed = [];
    for (const purchase of purchases) {
      if ((await poll(purchase.purchaseId)).status === 'confirmed') confirmed.push(purchase.purchaseId);
    }
    for (const purchaseId of confirmed.slice(0, 3)) await cancel(purchaseId);
    // The cancellations' tickets went to someone: the sale is sold out again.
    const status = await system.app.inject({ method: 'GET', url: `/events/${event.id}/status` });
    expect(status.json()).toMatchObject({ soldTickets: TICKETS });

    const books = await auditDatabase(system.config.databaseUrl, buyers, { fifo: true });
    expect(books.violations).toContainEqual(
      expect.stringMatching(/not decided in queue order: #\d+ by seq is waitlisted, expected confirmed/),
    );
  });

  it('when the load client cancels some of its purchases on a sold-out event, then its audit through the API reports the line out of order too', async () => {
    const address = await system.app.listen({ port: 0, host: '127.0.0.1' });
    const result = await runLoad(
      loadOptions({
        url: address,
        events: 1,
        tickets: 20,
        purchases: 120,
        concurrency: 24,
        quantity: { min: 1, max: 1 },
        cancelRatio: 0.3,
      }),
    );
    expect(result.errors, result.errorSamples.join('\n')).toBe(0);
    expect(result.audit.ok).toBe(false);
    expect(result.audit.violations).toContainEqual(
      expect.stringMatching(/waitlist positions are not exactly 1\.\.\d+/),
    );
  });
});
