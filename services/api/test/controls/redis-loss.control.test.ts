import { describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.TICKETING_UNSAFE_SWITCHES = 'no-pending-scan';
});

import { unsafeSwitches } from '@ticketing/shared';
import { useTestSystem } from '../support/test-system.js';
import { acceptThenLoseRedis, REDIS_LOSS_SYSTEM } from './scenarios.js';

// Negative control of "an accepted purchase is never lost" (docs/controls.md), whose own tests are
// the fault suite's Redis scenarios (kill -9, FLUSHALL): purchases accepted while no worker runs, then
// every Redis key gone, then a worker, without the scan of Postgres. The reconciler runs, and
// re-creates the lost job, but that wakes no event: only an announcement or the scan does, so the
// scan is the one mechanism here, and the audit reports the purchases accepted and never decided.

const system = await useTestSystem(...REDIS_LOSS_SYSTEM);

describe('negative control: an accepted purchase is never lost', () => {
  it('when Redis loses every job and the scan of Postgres is off, then the audit reports accepted purchases never decided, reconciler or not', async () => {
    expect(unsafeSwitches['no-pending-scan']).toBe(true);
    const { books, waitingJobs } = await acceptThenLoseRedis(system);
    expect(books.final).toBe(0);
    expect(books.violations).toContain('20 accepted purchases not final');
    // The reconciler did its part: the event's job is back in Redis, waiting for a wake-up.
    expect(waitingJobs).toBe(1);
  });
});
