import {
  insertAcceptedPurchases,
  insertEvent,
  newPurchaseRow,
  requestResize,
  type Db,
} from '@ticketing/shared/testing';
import { latestSeq } from '../../src/decide/round.js';
import { drainEvent } from '../support/rounds.js';

/** A purchase whose decision differs from the one its place in the queue gives it. */
export interface WrongSize {
  readonly purchaseId: string;
  readonly seq: number;
  readonly status: string;
  readonly expected: 'confirmed' | 'rejected';
}

/**
 * The audit of an event's sizes: replays its purchases and resizes in queue order (each resize at its
 * number, taking no sold ticket away, as `resizedTotal` does) and reports every purchase decided
 * otherwise than the total in force at its number allows: decided on the wrong size. For events
 * without holds or a waiting list (every purchase confirmed if it fits, else rejected), all decided.
 */
export async function purchasesDecidedOnWrongSize(
  db: Db,
  eventId: string,
  initialTotal: number,
): Promise<WrongSize[]> {
  const [purchases, resizes] = await Promise.all([
    db
      .selectFrom('purchases')
      .select(['id', 'seq', 'quantity', 'status'])
      .where('eventId', '=', eventId)
      .orderBy('seq')
      .execute(),
    db
      .selectFrom('eventResizes')
      .select(['seq', 'totalTickets'])
      .where('eventId', '=', eventId)
      .orderBy('seq')
      .execute(),
  ]);
  const wrong: WrongSize[] = [];
  let total = initialTotal;
  let sold = 0;
  let nextResize = 0;
  for (const purchase of purchases) {
    for (let resize = resizes[nextResize]; resize !== undefined && resize.seq < purchase.seq;) {
      total = Math.max(resize.totalTickets, sold);
      nextResize += 1;
      resize = resizes[nextResize];
    }
    const expected = purchase.quantity <= total - sold ? 'confirmed' : 'rejected';
    if (expected === 'confirmed') sold += purchase.quantity;
    if (purchase.status !== expected)
      wrong.push({ purchaseId: purchase.id, seq: purchase.seq, status: purchase.status, expected });
  }
  return wrong;
}

/** What the audit says of wrong sizes, as the books' violations read. */
export const wrongSizeViolations = (wrong: readonly WrongSize[]): string[] =>
  wrong.length === 0
    ? []
    : [
        `${wrong.length} purchases decided on the wrong size: ` +
          wrong
            .map((purchase) => `#${purchase.seq} ${purchase.status}, its size says ${purchase.expected}`)
            .join('; '),
      ];

/**
 * The control's scenario: 5 tickets, 10 purchases of one, a resize to 8, 5 purchases more, decided
 * after all were asked for. In queue order the first 5 are confirmed, the next 5 rejected, and 3 of
 * the last 5 get the added tickets.
 */
export async function resizeAmidPurchases(
  db: Db,
): Promise<{ eventId: string; resizeSeq: number; wrong: WrongSize[] }> {
  const event = await insertEvent(db, { totalTickets: 5 });
  const purchases = (from: number, count: number) =>
    insertAcceptedPurchases(
      db,
      Array.from({ length: count }, (_, index) => ({
        ...newPurchaseRow(event.id, `u${from + index}`),
        joinWaitlist: false,
      })),
    );
  await purchases(0, 10);
  const resize = await db.transaction().execute((tx) => requestResize(tx, event.id, 8));
  await purchases(10, 5);
  await drainEvent(db, event.id, await latestSeq(db), 4);
  return {
    eventId: event.id,
    resizeSeq: resize.seq,
    wrong: await purchasesDecidedOnWrongSize(db, event.id, 5),
  };
}
