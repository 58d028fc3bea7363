import { decidePurchases, planPromotions, type Database, type RejectionReason } from '@ticketing/shared';
import type { Kysely, Transaction } from 'kysely';
import {
  confirmPurchases,
  countWaitlist,
  findActiveUsers,
  findQueuedPurchases,
  lockEvent,
  rejectPurchases,
  removeWaitlistEntries,
  waitlistHead,
  waitlistPurchases,
  type Allocation,
} from './sale.repository.js';

type Tx = Transaction<Database>;

/** How many queued purchases one transaction decides at most. */
export const SETTLE_BATCH_SIZE = 500;
const PROMOTION_BATCH_SIZE = 500;

/**
 * Decides, in queue order, the event's undecided purchases accepted up to `upToSeq`, in one
 * transaction under the event lock: load the sale, decide (pure), persist. Returns the decided ids.
 */
export async function settleBatch(
  tx: Tx,
  eventId: string,
  upToSeq: number,
  limit: number,
): Promise<string[]> {
  const event = await lockEvent(tx, eventId);
  if (event === undefined) return [];
  const queued = await findQueuedPurchases(tx, eventId, upToSeq, limit);
  if (queued.length === 0) return [];
  const waitlistLength = await countWaitlist(tx, eventId);
  const activeUsers = await findActiveUsers(tx, eventId, [
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
  await waitlistPurchases(tx, eventId, waitlisted);
  for (const [reason, ids] of rejected) await rejectPurchases(tx, ids, reason);
  return queued.map((purchase) => purchase.id);
}

/** Decides everything accepted up to `upToSeq` inside the caller's transaction. */
export async function settleUpTo(tx: Tx, eventId: string, upToSeq: number): Promise<string[]> {
  const settled: string[] = [];
  for (;;) {
    const batch = await settleBatch(tx, eventId, upToSeq, SETTLE_BATCH_SIZE);
    settled.push(...batch);
    if (batch.length < SETTLE_BATCH_SIZE) return settled;
  }
}

/** Decides everything accepted up to `upToSeq`, committing one batch per transaction. */
export async function settlePurchases(
  db: Kysely<Database>,
  eventId: string,
  upToSeq: number,
): Promise<string[]> {
  const settled: string[] = [];
  for (;;) {
    const batch = await db
      .transaction()
      .execute((tx) => settleBatch(tx, eventId, upToSeq, SETTLE_BATCH_SIZE));
    settled.push(...batch);
    if (batch.length < SETTLE_BATCH_SIZE) return settled;
  }
}

/**
 * Gives freed tickets to the waiting list strictly in line order while the head fits. Returns the
 * promoted purchase ids.
 */
export async function promoteWaitlist(tx: Tx, eventId: string): Promise<string[]> {
  const promotedIds: string[] = [];
  for (;;) {
    const event = await lockEvent(tx, eventId);
    if (event === undefined) return promotedIds;
    const head = await waitlistHead(tx, eventId, PROMOTION_BATCH_SIZE);
    const { promoted } = planPromotions(event.totalTickets - event.soldTickets, head);
    if (promoted.length === 0) return promotedIds;
    const allocations = head.slice(0, promoted.length);
    await removeWaitlistEntries(
      tx,
      allocations.map((entry) => entry.purchaseId),
    );
    await confirmPurchases(tx, event, allocations);
    promotedIds.push(...allocations.map((entry) => entry.purchaseId));
    if (promoted.length < head.length || head.length < PROMOTION_BATCH_SIZE) return promotedIds;
  }
}
