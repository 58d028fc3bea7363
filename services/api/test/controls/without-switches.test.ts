import { describe, expect, it } from 'vitest';
import { unsafeSwitches } from '@ticketing/shared';
import { startTestSystem, useTestSystem } from '../support/test-system.js';
import { overtakeAtTheGate } from './accepting-race.js';
import {
  acceptThenLoseRedis,
  cancelAfterSellOut,
  cancellingLoadClient,
  confirmAfterHoldRanOut,
  preQueueThenStart,
  reachForAnothersPurchase,
  resendingBuyers,
  resizeBehindQueuedPurchases,
  resizingLoadClient,
  BUYER_TOKEN_SYSTEM,
  REDIS_LOSS_SYSTEM,
} from './scenarios.js';

// The negative controls' scenarios through the api with every switch off and every index in place:
// the audits are clean, so what the controls see comes from what their switches take away
// (docs/controls.md). The fault audit reads every event of the database: the hold's scenario, whose
// expired purchase is no FIFO sale, comes after those audited for queue order.

const system = await useTestSystem();

describe('the controls without their switches', () => {
  it('when no switch is on, then none is', () => {
    expect(Object.values(unsafeSwitches)).not.toContain(true);
  });

  it('when buyers resend with their key, then each key holds one purchase', async () => {
    const { buyers, books } = await resendingBuyers(system);
    expect(buyers.duplicated).toBe(0);
    expect(books.violations).toEqual([]);
  });

  it('when confirmed purchases of a sold-out event cancel, then the head of the line gets their tickets', async () => {
    expect((await cancelAfterSellOut(system)).violations).toEqual([]);
    const result = await cancellingLoadClient(system);
    expect(result.audit).toEqual({ ok: true, violations: [] });
  });

  it('when a request numbered first commits after a purchase numbered behind it, then the accepting lock makes the purchase wait and the books keep the queue order', async () => {
    for (const first of ['purchase', 'cancellation', 'expiry'] as const) {
      const { second, books } = await overtakeAtTheGate(system, first);
      expect(second, first).toBe('waited for the first');
      expect(books.violations, first).toEqual([]);
    }
  });

  it('when resizes come behind queued purchases, then those before each are decided on the old total, and so the load client finds when it resizes a paused sale', async () => {
    expect((await resizeBehindQueuedPurchases(system)).violations).toEqual([]);
    const result = await resizingLoadClient(system);
    expect(result.errors, result.errorSamples.join('\n')).toBe(0);
    expect(result.audit).toEqual({ ok: true, violations: [] });
  });

  it('when a hold is confirmed after it ran out, then the confirmation is refused and the books are clean', async () => {
    const { statusCode, books } = await confirmAfterHoldRanOut(system);
    expect(statusCode).toBe(409);
    expect(books.violations).toEqual([]);
  });

  it('when buyers pre-queue and more come after the start, then the pre-queue is decided in the draw, at or after the start, ahead of the later ones', async () => {
    const onSale = await startTestSystem();
    try {
      expect((await preQueueThenStart(onSale)).violations).toEqual([]);
    } finally {
      await onSale.close();
    }
  });

  it('when Redis loses every job, then the scan of Postgres decides every purchase', async () => {
    // A system of its own, as the control's: the audit reads every event of its database, and this one
    // starts without a worker.
    const lossy = await startTestSystem(...REDIS_LOSS_SYSTEM);
    try {
      const { books } = await acceptThenLoseRedis(lossy);
      expect(books.violations).toEqual([]);
    } finally {
      await lossy.close();
    }
  });

  it("when another buyer reaches for a buyer's purchase, then it does not exist for them and nothing changes", async () => {
    // A system of its own, as the control's: buyers identified by tokens.
    const tokens = await startTestSystem(...BUYER_TOKEN_SYSTEM);
    try {
      const { read, cancelStatusCode, cancelRequested } = await reachForAnothersPurchase(tokens);
      expect(read.statusCode).toBe(404);
      expect(cancelStatusCode).toBe(404);
      expect(cancelRequested).toBe(false);
    } finally {
      await tokens.close();
    }
  });
});
