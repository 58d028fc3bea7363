import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.TICKETING_UNSAFE_SWITCHES = 'no-accepting-lock';
});

import {
  createDb,
  createTestEnvironment,
  unsafeSwitches,
  type Database,
  type TestEnvironment,
} from '@ticketing/shared/testing';
import { acceptWhileDeciding } from './accepting-race.js';
import { auditControl } from './control-books.js';

// Negative control of "strict queue order" (docs/controls.md), whose own tests are the api's
// accepting-order.test.ts (numbers become visible in order), concurrency.test.ts and every fault
// scenario's FIFO audit; without-switches.test.ts runs the same scenario with the lock.

let environment: TestEnvironment;
let db: Kysely<Database>;
/** The worker's own connection, so that it decides as often as it can while the inserts run. */
let workerDb: Kysely<Database>;
beforeAll(async () => {
  environment = await createTestEnvironment();
  db = createDb(environment.config.databaseUrl, { poolSize: 12 });
  workerDb = createDb(environment.config.databaseUrl, { poolSize: 1 });
});
afterAll(async () => {
  await db?.destroy();
  await workerDb?.destroy();
  await environment?.destroy();
});

describe('negative control: strict queue order', () => {
  it('when batches are numbered without the accepting lock while a worker decides, then the audit reports decisions out of queue order', async () => {
    expect(unsafeSwitches['no-accepting-lock']).toBe(true);
    const purchases = await acceptWhileDeciding(db, workerDb);
    const books = await auditControl(environment, purchases, { fifo: true });
    expect(books.final).toBe(purchases.length);
    expect(books.violations).toContainEqual(expect.stringMatching(/not decided in queue order/));
  });
});
