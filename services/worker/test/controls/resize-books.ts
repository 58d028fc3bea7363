import type { Db } from '@ticketing/shared';

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
