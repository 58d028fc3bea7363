import { sleep } from '@ticketing/harness';
import {
  insertAcceptedPurchases,
  newPurchaseRow,
  type Database,
  type PurchaseRow,
} from '@ticketing/shared/testing';
import type { Kysely } from 'kysely';
import { applyRound } from '../../src/decide/round.js';

/** Rounds start this far apart: each reads the event before the one ahead of it commits. */
const STAGGER_MS = 20;

/**
 * The zombie worker's race, provoked every time: `buyers` purchases of one ticket each for an event
 * of `tickets`, decided by as many overlapping rounds of one purchase each (a worker with
 * WORKER_BATCH_SIZE=1, and another that lost its lease), then whatever is left one round at a time,
 * so every purchase is final for the audit. Returns the purchases and the rounds' errors.
 */
export async function decideInOverlappingRounds(
  db: Kysely<Database>,
  tickets: number,
  buyers: number,
): Promise<{ purchases: PurchaseRow[]; errors: string[] }> {
  const event = await db
    .insertInto('events')
    .values({ name: 'Control', totalTickets: tickets, priceCents: 100, currency: 'EUR', maxPerPurchase: 1 })
    .returning('id')
    .executeTakeFirstOrThrow();
  const purchases = await insertAcceptedPurchases(
    db,
    Array.from({ length: buyers }, (_, index) => newPurchaseRow(event.id, `buyer-${index}`)),
  );
  const target = { eventId: event.id, upToSeq: Math.max(...purchases.map((purchase) => purchase.seq)) };
  const rounds = await Promise.allSettled(
    Array.from({ length: buyers }, async (_, index) => {
      await sleep(index * STAGGER_MS);
      await applyRound(db, [target], 1);
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
