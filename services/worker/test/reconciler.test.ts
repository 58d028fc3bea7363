import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteKeys } from '@ticketing/shared/testing';
import { httpHelpers } from '../../api/test/support/http.js';
import { startTestSystem, type TestSystem } from '../../api/test/support/test-system.js';

let system: TestSystem;
const { createEvent, submit, poll } = httpHelpers(() => system);
beforeAll(async () => {
  system = await startTestSystem({ RECONCILE_AFTER_MS: '0' });
});
afterAll(async () => {
  await system?.close();
});

describe('reconciler', () => {
  it('when Redis loses every job of accepted purchases, then a sweep re-enqueues them and all are decided', async () => {
    const event = await createEvent({ totalTickets: 3 });
    // Stop the worker from seeing the jobs, accept purchases, then lose the queue entirely.
    await system.stopWorker();
    const accepted = [];
    for (let index = 0; index < 5; index += 1)
      accepted.push(await submit(event.id, { userId: `lost-${index}` }));
    await deleteKeys(system.config.redisUrl, `${system.config.queuePrefix}:*`);

    await system.startWorker();
    expect(await system.worker.reconcileNow()).toBeGreaterThan(0);
    const outcomes = [];
    for (const purchase of accepted) outcomes.push((await poll(purchase.purchaseId)).status);
    expect(outcomes).toEqual(['confirmed', 'confirmed', 'confirmed', 'waitlisted', 'waitlisted']);
    const rows = await system.deps.db
      .selectFrom('purchases')
      .select('status')
      .where('eventId', '=', event.id)
      .where('status', '=', 'queued')
      .execute();
    expect(rows).toEqual([]);
  });
});
