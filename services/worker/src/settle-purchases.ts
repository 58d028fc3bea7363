import { decidePurchases, type Database, type EventRow, type RejectionReason } from '@ticketing/shared';
import type { Transaction } from 'kysely';
import {
  confirmPurchases,
  countWaitlist,
  findActiveUsers,
  findQueuedPurchases,
  rejectPurchases,
  waitlistPurchases,
  type Allocation,
} from './sale.repository.js';
import { purchasesDecided } from './metrics.js';

/**
 * Decides, in queue order, up to `limit` undecided purchases of the event accepted up to `upToSeq`:
 * load the sale, decide (pure), persist. The caller holds the event's row lock. Returns the ids.
 */
export async function settleBatch(
  tx: Transaction<Database>,
  event: EventRow,
  upToSeq: number,
  limit: number,
): Promise<string[]> {
  const queued = await findQueuedPurchases(tx, event.id, upToSeq, limit);
  if (queued.length === 0) return [];
  const waitlistLength = await countWaitlist(tx, event.id);
  const activeUsers = await findActiveUsers(tx, event.id, [
    ...new Set(queued.map((purchase) => purchase.userId)),
  ]);

  const { decided } = decidePurchases(
    { availableTickets: event.totalTickets - event.soldTickets, waitlistLength, activeUsers },
    queued,
  );

  const confirmed: Allocation[] = [];
  const waitlisted: Allocation[] = [];
  const rejected = new Map<RejectionReason, string[]>();
  for (const { purchase, decision } of decided) {
    const allocation = { purchaseId: purchase.id, userId: purchase.userId, quantity: purchase.quantity };
    if (decision.status === 'confirmed') confirmed.push(allocation);
    else if (decision.status === 'waitlisted') waitlisted.push(allocation);
    else rejected.set(decision.reason, [...(rejected.get(decision.reason) ?? []), purchase.id]);
  }
  await confirmPurchases(tx, event, confirmed);
  await waitlistPurchases(tx, event.id, waitlisted);
  for (const [reason, ids] of rejected) await rejectPurchases(tx, ids, reason);
  purchasesDecided.inc({ outcome: 'confirmed' }, confirmed.length);
  purchasesDecided.inc({ outcome: 'waitlisted' }, waitlisted.length);
  purchasesDecided.inc({ outcome: 'rejected' }, queued.length - confirmed.length - waitlisted.length);
  return queued.map((purchase) => purchase.id);
}
