import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.TICKETING_UNSAFE_SWITCHES = 'no-accepting-lock';
});

import {
  createDb,
  createTestEnvironment,
  insertAcceptedPurchases,
  newPurchaseRow,
  unsafeSwitches,
  type Database,
  type PurchaseRow,
  type TestEnvironment,
} from '@ticketing/shared/testing';
import { applyRound, latestSeq } from '../../src/decide/round.js';
import { auditControl } from './control-books.js';

// Negative control of "strict queue order" (docs/controls.md), whose own tests are the api's
// accepting-order.test.ts (numbers become visible in order), concurrency.test.ts and every fault
// scenario's FIFO audit: purchases are accepted in concurrent batches, as the api's flushes store
// them, while a worker decides what it sees, remembering what it decided as the drainer does.

let environment: TestEnvironment;
let db: Kysely<Database>;
/** The worker's own connection, so that it decides as often as it can while the inserts run. */
let workerDb: Kysely<Database>;
beforeAll(async () => {
  environment = await createTestEnvironment();
  db = createDb(environment.config.databaseUrl, { poolSize: 12 });
  workerDb = createDb(environment.config.databaseUrl, { poolSize: 1 });
  // In this test's own database, each insert dawdles after drawing its numbers, before it commits:
  // the lower its numbers, the longer, so that concurrent batches commit newest first, every time.
  // The accepting lock is what keeps that from mattering (they would take turns instead).
  await sql`
    create function dawdle() returns trigger language plpgsql as $$
    begin
      perform pg_sleep(0.3 / (1 + (select min(seq) from inserted) / 25.0));
      return null;
    end $$`.execute(db);
  await sql`
    create trigger dawdle after insert on purchases referencing new table as inserted
    for each statement execute function dawdle()`.execute(db);
});
afterAll(async () => {
  await db?.destroy();
  await workerDb?.destroy();
  await environment?.destroy();
});

const TICKETS = 300;
const BATCHES = 40;
const PER_BATCH = 25;

describe('negative control: strict queue order', () => {
  it('when batches are numbered without the accepting lock while a worker decides, then the audit reports decisions out of queue order', async () => {
    expect(unsafeSwitches['no-accepting-lock']).toBe(true);
    const event = await db
      .insertInto('events')
      .values({ name: 'Control', totalTickets: TICKETS, priceCents: 100, currency: 'EUR', maxPerPurchase: 1 })
      .returning('id')
      .executeTakeFirstOrThrow();

    let accepting = true;
    const worker = (async () => {
      let decidedThrough = 0;
      while (accepting) {
        const upToSeq = await latestSeq(workerDb);
        const round = await applyRound(workerDb, [{ eventId: event.id, upToSeq, decidedThrough }], 500);
        decidedThrough = Math.max(decidedThrough, round.decidedThrough.get(event.id) ?? 0);
      }
    })();
    const purchases: PurchaseRow[] = (
      await Promise.all(
        Array.from({ length: BATCHES }, (_, batch) =>
          insertAcceptedPurchases(
            db,
            Array.from({ length: PER_BATCH }, (_, index) => newPurchaseRow(event.id, `u-${batch}-${index}`)),
          ),
        ),
      )
    ).flat();
    accepting = false;
    await worker;
    // The scan of Postgres searches from the start: every purchase ends decided.
    const upToSeq = await latestSeq(db);
    while ((await applyRound(db, [{ eventId: event.id, upToSeq }], 500)).updates.length > 0);

    const books = await auditControl(environment, purchases, { fifo: true });
    expect(books.final).toBe(BATCHES * PER_BATCH);
    expect(books.violations.some((violation) => violation.includes('not decided in queue order'))).toBe(true);
  });
});
