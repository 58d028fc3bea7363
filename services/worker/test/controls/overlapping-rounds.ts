import { sleep, waitFor } from '@ticketing/harness';
import {
  insertAcceptedPurchases,
  insertEvent,
  newPurchaseRow,
  type Database,
  type PurchaseRow,
} from '@ticketing/shared/testing';
import { sql, type Kysely } from 'kysely';
import { applyRound } from '../../src/decide/round.js';

export interface Overlap {
  readonly tickets: number;
  readonly buyers: number;
  /** How many rounds run; each decides up to `batchSize` purchases. */
  readonly rounds: number;
  readonly batchSize: number;
  /** Rounds start this far apart (0: all at once). */
  readonly staggerMs: number;
  /** An event with holds: the rounds hold tickets for payment instead of selling them (0: none). */
  readonly holdSeconds?: number;
}

/**
 * The zombie worker's race, provoked every time: `buyers` purchases of one ticket each for an event
 * of `tickets`, decided by overlapping rounds (a worker, and others that lost their lease but still
 * hold jobs), then whatever is left one round at a time, so every purchase is final for the audit.
 * Rounds 20 ms apart, one purchase each, read the event before the round ahead of them commits and
 * its purchases after: they decide the next purchase on a stale count. Rounds all at once (behind a
 * gate) read the same purchases: they decide the same ones. Returns the purchases and the rounds'
 * errors.
 */
export async function decideInOverlappingRounds(
  db: Kysely<Database>,
  overlap: Overlap,
): Promise<{ purchases: PurchaseRow[]; errors: string[] }> {
  const event = await insertEvent(db, {
    totalTickets: overlap.tickets,
    maxPerPurchase: 1,
    holdSeconds: overlap.holdSeconds ?? 0,
  });
  const purchases = await insertAcceptedPurchases(
    db,
    Array.from({ length: overlap.buyers }, (_, index) => newPurchaseRow(event.id, `buyer-${index}`)),
  );
  const target = { eventId: event.id, upToSeq: Math.max(...purchases.map((purchase) => purchase.seq)) };
  // Every round's connection is open before they start: opening one takes long enough, on a busy
  // machine, for a round to miss the others.
  await Promise.all(Array.from({ length: overlap.rounds }, () => sql`select pg_sleep(0.05)`.execute(db)));
  const run = () =>
    Promise.allSettled(
      Array.from({ length: overlap.rounds }, async (_, index) => {
        await sleep(index * overlap.staggerMs);
        await applyRound(db, [target], overlap.batchSize);
      }),
    );
  let rounds: PromiseSettledResult<void>[];
  if (overlap.staggerMs > 0) rounds = await run();
  else {
    // All at once, for sure: a gate holds the event's row until every round has read its purchases
    // and waits to write the event (its first write), so that each decided the same ones.
    let running: Promise<PromiseSettledResult<void>[]> | undefined;
    await db.transaction().execute(async (gate) => {
      await sql`select id from events where id = ${event.id} for update`.execute(gate);
      running = run();
      await waitFor(
        'every round to wait at the gate',
        async () => (await roundsWaitingForALock(db)) >= overlap.rounds,
        10_000,
      );
    });
    rounds = await (running ?? run());
  }
  const errors = rounds.flatMap((round) =>
    round.status === 'rejected' ? [String((round.reason as Error).message)] : [],
  );
  for (;;) {
    try {
      if ((await applyRound(db, [target], 100)).updates.length === 0) break;
    } catch (error) {
      errors.push((error as Error).message);
      break;
    }
  }
  return { purchases, errors };
}

async function roundsWaitingForALock(db: Kysely<Database>): Promise<number> {
  const { rows } = await sql<{ waiting: number }>`
    select count(*)::int as waiting from pg_stat_activity
    where datname = current_database() and wait_event_type = 'Lock'`.execute(db);
  return rows[0]?.waiting ?? 0;
}

/**
 * Rounds of one purchase each, 20 ms apart: the next purchase decided on a stale count. With
 * `holdSeconds`, the tickets are held for payment (for longer than the scenario lasts).
 */
export const staleCounts = (tickets: number, buyers: number, holdSeconds = 0): Overlap => ({
  tickets,
  buyers,
  rounds: buyers,
  batchSize: 1,
  staggerMs: 20,
  holdSeconds,
});

/** Rounds all at once, each deciding every purchase, with tickets for all: the same purchases twice. */
export const sameDecisions = (buyers: number, rounds: number): Overlap => ({
  tickets: buyers * rounds,
  buyers,
  rounds,
  batchSize: buyers,
  staggerMs: 0,
});
