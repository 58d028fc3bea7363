import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.TICKETING_UNSAFE_SWITCHES = 'no-idempotency-conflict';
});

import { auditDatabase, waitAllFinal } from '@ticketing/faults/books';
import { Buyers } from '@ticketing/faults/buyers';
import { unsafeSwitches } from '@ticketing/shared';
import pg from 'pg';
import { httpHelpers } from '../support/http.js';
import { startTestSystem, type TestSystem } from '../support/test-system.js';

// Negative control of "no double booking" by client retries (docs/controls.md), whose own tests are
// purchases.test.ts (a retry with the same Idempotency-Key, racing retries) and the fault suite's
// buyers, one in ten of whom sends its accepted purchase again: the same buyers, against an api that
// inserts without skipping a known key, on a database without the unique index that would refuse it.

let system: TestSystem;
let url: string;
const { createEvent } = httpHelpers(() => system);
beforeAll(async () => {
  system = await startTestSystem();
  await sql`drop index purchases_event_idempotency_key`.execute(system.deps.db);
  url = await system.app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await system?.close();
});

describe('negative control: idempotency keys', () => {
  it('when purchases are stored without the idempotency conflict and its index, then the audit reports keys holding two purchases', async () => {
    expect(unsafeSwitches['no-idempotency-conflict']).toBe(true);
    const event = await createEvent({ totalTickets: 50 });
    const buyers = await new Buyers(() => url, { events: [event.id], purchases: 200, concurrency: 20 }).run();
    const pool = new pg.Pool({ connectionString: system.config.databaseUrl, max: 1 });
    try {
      expect(await waitAllFinal(pool, buyers, 30_000)).toBeLessThan(30_000);
    } finally {
      await pool.end();
    }

    const books = await auditDatabase(system.config.databaseUrl, buyers, { fifo: false });
    // Every tenth buyer sent its purchase twice, and got a second purchase for the same key.
    expect(buyers.duplicated).toBe(20);
    expect(books.duplicated).toBeGreaterThanOrEqual(40);
    expect(books.violations).toContainEqual(
      expect.stringMatching(/duplicates: .* 20 keys with two purchases/),
    );
  });
});
