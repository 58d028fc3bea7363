import {
  insertAcceptedPurchases,
  insertEvent,
  newPurchaseRow,
  type Database,
  type PurchaseRow,
} from '@ticketing/shared/testing';
import { sql, type Kysely } from 'kysely';
import { applyRound, latestSeq } from '../../src/decide/round.js';

const TICKETS = 300;
const BATCHES = 40;
const PER_BATCH = 25;

/**
 * The race the accepting lock is there for, provoked every time: purchases accepted in concurrent
 * batches, as the api's flushes store them, while a worker (on its own connection, `workerDb`)
 * decides what it sees, remembering what it decided as the drainer does; then the scan's round
 * decides the rest. Each insert dawdles after drawing its numbers, before it commits (a trigger in
 * the test's own database, for the length of the scenario): the lower its numbers, the longer, so
 * that without the lock batches commit newest first; with it they take turns. Returns the purchases.
 */
export async function acceptWhileDeciding(
  db: Kysely<Database>,
  workerDb: Kysely<Database>,
): Promise<PurchaseRow[]> {
  const event = await insertEvent(db, { totalTickets: TICKETS, maxPerPurchase: 1 });
  const firstSeq = (await latestSeq(db)) + 1;
  await sql`
    create or replace function dawdle() returns trigger language plpgsql as $$
    begin
      perform pg_sleep(0.3 / (1 + ((select min(seq) from inserted) - ${sql.lit(firstSeq)}) / ${sql.lit(PER_BATCH)}.0));
      return null;
    end $$`.execute(db);
  await sql`
    create trigger dawdle after insert on purchases referencing new table as inserted
    for each statement execute function dawdle()`.execute(db);
  try {
    let accepting = true;
    const worker = (async () => {
      let decidedThrough = 0;
      while (accepting) {
        const upToSeq = await latestSeq(workerDb);
        const round = await applyRound(workerDb, [{ eventId: event.id, upToSeq, decidedThrough }], 500);
        decidedThrough = Math.max(decidedThrough, round.decidedThrough.get(event.id) ?? 0);
      }
    })();
    const purchases = (
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
    const upToSeq = await latestSeq(db);
    while ((await applyRound(db, [{ eventId: event.id, upToSeq }], 500)).updates.length > 0);
    return purchases;
  } finally {
    await sql`drop trigger dawdle on purchases`.execute(db);
  }
}
