import {
  decidePurchases,
  type Database,
  type EventRow,
  type RejectionReason,
  type Settlement,
} from '@ticketing/shared';
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

/**
 * Decides, in queue order, up to `limit` undecided purchases of the event accepted up to `upToSeq`:
 * load the sale, decide (pure), persist. The caller holds the event's row lock. Returns what each
 * purchase became.
 */
export async function settleBatch(
  tx: Transaction<Database>,
  event: EventRow,
  upToSeq: number,
  limit: number,
  decidedAt: Date,
): Promise<Settlement[]> {
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
  const waitlisted: (Allocation & { waitlistPosition: number })[] = [];
  const rejected = new Map<RejectionReason, string[]>();
  for (const { purchase, decision } of decided) {
    const allocation = { purchaseId: purchase.id, userId: purchase.userId, quantity: purchase.quantity };
    if (decision.status === 'confirmed') confirmed.push(allocation);
    else if (decision.status === 'waitlisted')
      waitlisted.push({ ...allocation, waitlistPosition: decision.waitlistPosition });
    else rejected.set(decision.reason, [...(rejected.get(decision.reason) ?? []), purchase.id]);
  }
  const settlements = [
    ...(await confirmPurchases(tx, event, confirmed, decidedAt)),
    ...(await waitlistPurchases(tx, event.id, waitlisted, decidedAt)),
  ];
  for (const [reason, ids] of rejected)
    settlements.push(...(await rejectPurchases(tx, ids, reason, decidedAt)));
  return settlements;
}
