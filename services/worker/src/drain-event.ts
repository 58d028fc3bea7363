import type { Database, Settlement } from '@ticketing/shared';
import type { Kysely, Transaction } from 'kysely';
import { applyCancellation } from './cancel-purchase.js';
import { findNextPendingCancellation, lockEvent } from './sale.repository.js';
import { settleBatch } from './settle-purchases.js';

/**
 * Applies the event's pending requests accepted up to `upToSeq` (purchases to decide, cancellations to
 * carry out) strictly in acceptance order, a batch per transaction under the event's row lock.
 * Anything already applied is skipped, so running it twice, or in two workers at once, changes nothing
 * the second time. Returns the purchases whose state changed.
 */
export async function drainEvent(
  db: Kysely<Database>,
  eventId: string,
  upToSeq: number,
  batchSize: number,
): Promise<Settlement[]> {
  const changed: Settlement[] = [];
  for (;;) {
    const step = await db.transaction().execute((tx) => applyNextBatch(tx, eventId, upToSeq, batchSize));
    changed.push(...step.changed);
    if (!step.more) return changed;
  }
}

async function applyNextBatch(
  tx: Transaction<Database>,
  eventId: string,
  upToSeq: number,
  batchSize: number,
): Promise<{ changed: Settlement[]; more: boolean }> {
  const decidedAt = new Date();
  const event = await lockEvent(tx, eventId);
  if (event === undefined) return { changed: [], more: false };
  const cancellation = await findNextPendingCancellation(tx, eventId, upToSeq);
  // Purchases accepted before the next cancellation are decided before it is carried out.
  const decidedUpTo = cancellation === undefined ? upToSeq : cancellation.cancelSeq - 1;
  const decided = await settleBatch(tx, event, decidedUpTo, batchSize, decidedAt);
  if (decided.length === batchSize) return { changed: decided, more: true };
  if (cancellation === undefined) return { changed: decided, more: false };
  const cancelled = await applyCancellation(tx, eventId, cancellation.purchaseId, decidedAt);
  return { changed: [...decided, ...cancelled], more: true };
}
