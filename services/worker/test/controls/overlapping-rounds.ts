import { sleep } from '@ticketing/harness';
import {
  insertAcceptedPurchases,
  newPurchaseRow,
  type Database,
  type PurchaseRow,
} from '@ticketing/shared/testing';
import type { Kysely } from 'kysely';
import { applyRound } from '../../src/decide/round.js';

export interface Overlap {
  readonly tickets: number;
  readonly buyers: number;
  /** How many rounds run; each decides up to `batchSize` purchases. */
  readonly rounds: number;
  readonly batchSize: number;
  /** Rounds start this far apart (0: all at once). */
  readonly staggerMs: number;
}

/**
 * The zombie worker's race, provoked every time: `buyers` purchases of one ticket each for an event
 * of `tickets`, decided by overlapping rounds (a worker, and others that lost their lease but still
 * hold jobs), then whatever is left one round at a time, so every purchase is final for the audit.
 * Rounds 20 ms apart, one purchase each, read the event before the round ahead of them commits and
 * its purchases after: they decide the next purchase on a stale count. Rounds all at once read the
 * same purchases: they decide the same ones. Returns the purchases and the rounds' errors.
 */
export async function decideInOverlappingRounds(
  db: Kysely<Database>,
  overlap: Overlap,
): Promise<{ purchases: PurchaseRow[]; errors: string[] }> {
  const event = await db
    .insertInto('events')
    .values({
      name: 'Control',
      totalTickets: overlap.tickets,
      priceCents: 100,
      currency: 'EUR',
      maxPerPurchase: 1,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const purchases = await insertAcceptedPurchases(
    db,
    Array.from({ length: overlap.buyers }, (_, index) => newPurchaseRow(event.id, `buyer-${index}`)),
  );
  const target = { eventId: event.id, upToSeq: Math.max(...purchases.map((purchase) => purchase.seq)) };
  const rounds = await Promise.allSettled(
    Array.from({ length: overlap.rounds }, async (_, index) => {
      await sleep(index * overlap.staggerMs);
      await applyRound(db, [target], overlap.batchSize);
    }),
  );
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

/** Rounds of one purchase each, 20 ms apart: the next purchase decided on a stale count. */
export const staleCounts = (tickets: number, buyers: number): Overlap => ({
  tickets,
  buyers,
  rounds: buyers,
  batchSize: 1,
  staggerMs: 20,
});

/** Rounds all at once, each deciding every purchase, with tickets for all: the same purchases twice. */
export const sameDecisions = (buyers: number, rounds: number): Overlap => ({
  tickets: buyers * rounds,
  buyers,
  rounds,
  batchSize: buyers,
  staggerMs: 0,
});
