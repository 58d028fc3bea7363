import { afterEach, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.TICKETING_UNSAFE_SWITCHES = 'no-pending-scan';
});

import { auditDatabase, waitAllFinal } from '@ticketing/faults/books';
import { unsafeSwitches } from '@ticketing/shared';
import pg from 'pg';
import { httpHelpers } from '../support/http.js';
import { startTestSystem, type TestSystem } from '../support/test-system.js';

// Negative control of "an accepted purchase is never lost" (docs/controls.md), whose own tests are
// the fault suite's Redis scenarios (kill -9, FLUSHALL): purchases accepted while no worker runs, then
// every Redis key gone, then a worker, without the scan of Postgres. The reconciler runs, and
// re-creates the lost jobs, but that wakes no event: only an announcement or the scan does, so the
// scan is the one mechanism here, and the audit reports the purchases accepted and never decided.

let system: TestSystem | undefined;
const { submit } = httpHelpers(() => {
  if (system === undefined) throw new Error('no system');
  return system;
});
afterEach(async () => {
  await system?.close();
  system = undefined;
});

const BUYERS = 20;

/** Accepts purchases with no worker running, loses every Redis key, starts a worker; the audit after `settleMs`. */
async function acceptThenLoseRedis(running: TestSystem, settleMs: number) {
  const event = await running.app.inject({
    method: 'POST',
    url: '/events',
    payload: { name: 'Control', totalTickets: 5, priceCents: 100 },
  });
  const eventId = event.json<{ id: string }>().id;
  const purchases = await Promise.all(
    Array.from({ length: BUYERS }, (_, index) => submit(eventId, { userId: `buyer-${index}` })),
  );
  await running.environment.redis.deleteKeys();
  await running.startWorker();
  const accepted = new Map(
    purchases.map((purchase) => [purchase.purchaseId, { purchaseId: purchase.purchaseId, eventId }]),
  );
  const buyers = { accepted, duplicated: 0, rejected: [] };
  const pool = new pg.Pool({ connectionString: running.config.databaseUrl, max: 1 });
  try {
    await waitAllFinal(pool, buyers, settleMs);
  } finally {
    await pool.end();
  }
  return { eventId, books: await auditDatabase(running.config.databaseUrl, buyers, { fifo: true }) };
}

describe('negative control: an accepted purchase is never lost', () => {
  it('when Redis loses every job and the scan of Postgres is off, then the audit reports accepted purchases never decided, reconciler or not', async () => {
    expect(unsafeSwitches['no-pending-scan']).toBe(true);
    system = await startTestSystem(
      { RECONCILE_INTERVAL_MS: '200', RECONCILE_AFTER_MS: '200' },
      { worker: false },
    );
    const { eventId, books } = await acceptThenLoseRedis(system, 3_000);
    expect(books.final).toBe(0);
    expect(books.violations).toContain(`${BUYERS} accepted purchases not final`);
    // The reconciler did its part: the event's job is back in Redis, waiting for a wake-up.
    const jobs = await system.deps.queues.queue(eventId).getJobCounts('waiting');
    expect(jobs.waiting).toBe(1);
  });
});
