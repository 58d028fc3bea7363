import { describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.TICKETING_UNSAFE_SWITCHES = 'no-accepting-lock';
});

import { unsafeSwitches } from '@ticketing/shared';
import { useTestSystem } from '../support/test-system.js';
import { overtakeAtTheGate } from './accepting-race.js';

// Negative control of "strict queue order" (docs/controls.md), whose own tests are
// accepting-order.test.ts (numbers become visible in order), concurrency.test.ts and every fault
// scenario's FIFO audit: a request numbered first commits after a purchase numbered behind it, and
// everything that draws a number without the accepting lock lets the purchase overtake it: the api's
// purchases and cancellations, and the worker's expiry sweep. without-switches.test.ts runs the same
// races with the lock.

const system = await useTestSystem();

describe('negative control: strict queue order', () => {
  it('when a purchase is numbered without the accepting lock, then one numbered after it is decided first and the audit reports it', async () => {
    expect(unsafeSwitches['no-accepting-lock']).toBe(true);
    const { eventId, second, books } = await overtakeAtTheGate(system, 'purchase');
    expect(second).toBe('decided first');
    expect(books.violations).toContain(
      `event ${eventId}: not decided in queue order: #1 by draw and seq is waitlisted, expected confirmed`,
    );
  });

  it('when a cancellation is numbered without the accepting lock, then a purchase numbered after it is decided first and the audit reports it', async () => {
    const { eventId, second, books } = await overtakeAtTheGate(system, 'cancellation');
    expect(second).toBe('decided first');
    expect(books.violations).toContain(
      `event ${eventId}: not decided in queue order: #2 by draw and seq is rejected, expected confirmed`,
    );
  });

  it("when the sweep numbers a hold's expiry without the accepting lock, then a purchase numbered after it is decided first and the audit reports it", async () => {
    const { eventId, second, books } = await overtakeAtTheGate(system, 'expiry');
    expect(second).toBe('decided first');
    expect(books.violations).toContain(
      `event ${eventId}: not decided in queue order: #2 by draw and seq is rejected, expected confirmed`,
    );
  });
});
