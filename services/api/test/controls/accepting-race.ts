import { auditDatabase, type Books } from '@ticketing/faults/books';
import { waitFor } from '@ticketing/harness';
import { hasPendingCancellation, hasPendingExpiry, isAwaitingDecision } from '@ticketing/shared';
import { sql } from 'kysely';
import { httpHelpers, type PurchaseBody } from '../support/http.js';
import type { TestSystem } from '../support/test-system.js';

/** What draws the first number in the event's queue and then stops at the gate before it commits. */
export type FirstInQueue = 'purchase' | 'cancellation' | 'expiry';

/** The gate: an advisory lock key of the test's own database (the accepting locks hash event ids). */
const GATE = 23;
/** The buyer whose request stops at the gate. */
const FIRST = 'first-at-the-gate';
const RACE_TIMEOUT_MS = 30_000;

/**
 * The race the accepting lock is there for (docs/controls.md), forced every time: a first request
 * draws its number in the event's queue, then stops at a gate before it commits; a second request,
 * a purchase, comes after it. Without the accepting lock the second commits at once and the worker
 * decides it on an event where the first is not visible yet; with the lock the second waits for the
 * first to commit. Everything runs through the system's own code: the api's purchase and cancel
 * routes (their statements, enqueues and announcements) and the in-process worker, whose periodic
 * scan numbers the expiry of a hold past its time (its sweep). The gate is a trigger in the test's
 * own database: when the first buyer's purchase is stored or given a cancellation's or an expiry's
 * number, it waits for an advisory lock that the scenario holds until the second request is decided
 * or is seen waiting for a lock. No step waits for a time to pass. The event has 1 ticket:
 * - `purchase`: the first buyer's purchase is the first request; the second buyer waits in line.
 * - `cancellation`: the first buyer's confirmed purchase is cancelled; the second buyer does not join
 *   the waiting list, so it gets the ticket handed back only if it is decided after the cancellation.
 * - `expiry`: the first buyer's hold runs out (set in the row, as the clock would) and the worker's
 *   sweep numbers its expiry; the second buyer, again, does not join the waiting list.
 * Returns the event, what the second request did while the first stood at the gate, and the fault
 * audit's books (it reads every event of the database).
 */
export async function overtakeAtTheGate(
  system: TestSystem,
  first: FirstInQueue,
): Promise<{ eventId: string; second: 'waited for the first' | 'decided first'; books: Books }> {
  const { db } = system.deps;
  const { inject, createEvent, submit, buy } = httpHelpers(() => system);
  const event = await createEvent({ totalTickets: 1, ...(first === 'expiry' ? { holdSeconds: 600 } : {}) });
  await sql`
    create or replace function wait_at_gate() returns trigger language plpgsql as $$
    begin
      perform pg_advisory_xact_lock_shared(${sql.lit(GATE)});
      return null;
    end $$`.execute(db);
  await sql`
    create trigger wait_at_gate after insert or update of cancel_seq, expire_seq on purchases
    for each row when (new.user_id = ${sql.lit(FIRST)}) execute function wait_at_gate()`.execute(db);
  let waited = false;
  try {
    // The first buyer's purchase, for a cancellation or an expiry, before the gate closes.
    const owned = first === 'purchase' ? undefined : await buy(event.id, { userId: FIRST });
    let requests: Promise<unknown>[] = [];
    await db.transaction().execute(async (gate) => {
      await sql`select pg_advisory_xact_lock(${GATE})`.execute(gate);
      const firstRequest =
        owned === undefined
          ? submit(event.id, { userId: FIRST })
          : first === 'cancellation'
            ? inject({ method: 'POST', url: `/purchases/${owned.purchaseId}/cancel` })
            : db
                .updateTable('purchases')
                .set({ holdExpiresAt: sql`now()` })
                .where('id', '=', owned.purchaseId)
                .execute();
      await waitFor(
        'the first request at the gate',
        async () => (await waiters(system)).atGate > 0,
        RACE_TIMEOUT_MS,
      );
      let second: PurchaseBody | undefined;
      const secondRequest = submit(event.id, { userId: 'second', joinWaitlist: first === 'purchase' }).then(
        (body) => (second = body),
      );
      requests = [firstRequest, secondRequest];
      await waitFor(
        'the second request decided, or waiting for the first',
        async () => {
          waited = (await waiters(system)).forAcceptingLock > 0;
          return waited || (second !== undefined && (await statusOf(system, second.purchaseId)) !== 'queued');
        },
        RACE_TIMEOUT_MS,
      );
    });
    await Promise.all(requests);
    // The routes answer once their transaction committed; the sweep's runs in the worker.
    if (first === 'expiry')
      await waitFor(
        "the hold's expiry numbered",
        async () =>
          (await db
            .selectFrom('purchases')
            .select('id')
            .where('id', '=', owned?.purchaseId ?? '')
            .where((eb) => eb.or([eb('expireSeq', 'is not', null), eb('status', '=', 'expired')]))
            .executeTakeFirst()) !== undefined,
        RACE_TIMEOUT_MS,
      );
    await waitFor(
      'every request of the event applied',
      async () =>
        (await db
          .selectFrom('purchases')
          .select('id')
          .where('eventId', '=', event.id)
          .where((eb) => eb.or([isAwaitingDecision(eb), hasPendingCancellation(eb), hasPendingExpiry(eb)]))
          .executeTakeFirst()) === undefined,
      RACE_TIMEOUT_MS,
    );
  } finally {
    await sql`drop trigger wait_at_gate on purchases`.execute(db);
  }
  const purchases = await db.selectFrom('purchases').select('id').where('eventId', '=', event.id).execute();
  const accepted = new Map(purchases.map(({ id }) => [id, { purchaseId: id, eventId: event.id }]));
  const books = await auditDatabase(
    system.config.databaseUrl,
    { accepted, duplicated: 0, rejected: [] },
    {
      fifo: true,
    },
  );
  return { eventId: event.id, second: waited ? 'waited for the first' : 'decided first', books };
}

/** Transactions of the test's database waiting for the gate, and for any other advisory lock. */
async function waiters(system: TestSystem): Promise<{ atGate: number; forAcceptingLock: number }> {
  const { rows } = await sql<{ atGate: number; forAcceptingLock: number }>`
    select count(*) filter (where classid = 0 and objid = ${GATE})::int as "atGate",
      count(*) filter (where not (classid = 0 and objid = ${GATE}))::int as "forAcceptingLock"
    from pg_locks
    where locktype = 'advisory' and not granted
      and database = (select oid from pg_database where datname = current_database())`.execute(
    system.deps.db,
  );
  return rows[0] ?? { atGate: 0, forAcceptingLock: 0 };
}

async function statusOf(system: TestSystem, purchaseId: string): Promise<string | undefined> {
  const row = await system.deps.db
    .selectFrom('purchases')
    .select('status')
    .where('id', '=', purchaseId)
    .executeTakeFirst();
  return row?.status;
}
