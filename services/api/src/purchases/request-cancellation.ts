import {
  checkCancellable,
  conflict,
  notFound,
  unavailable,
  type Database,
  type OutboxRecorder,
  type PurchaseRow,
} from '@ticketing/shared';
import type { Kysely } from 'kysely';
import type { PurchaseBatching } from './purchase-batching.js';
import {
  clearCancellationRequest,
  findPurchaseViewRow,
  markCancellationRequested,
  withdrawFromPrequeue,
} from './purchases.repository.js';

export interface RequestCancellationDeps {
  readonly db: Kysely<Database>;
  /** Enqueues the cancellation and wakes the event's worker, as for a purchase. */
  readonly purchases: Pick<PurchaseBatching, 'enqueue'>;
  /** Where a cancellation in the pre-queue, made at once, records its webhook message. */
  readonly outbox: OutboxRecorder;
}

/**
 * Records the request and puts the cancellation in the event's queue, behind every purchase accepted
 * before it, so it is applied in order like everything else. Asking twice is a 409. A purchase in the
 * pre-queue before the start is cancelled at once instead (see withdrawFromPrequeue).
 */
export async function requestCancellation(
  deps: RequestCancellationDeps,
  purchaseId: string,
): Promise<PurchaseRow> {
  const withdrawn = await deps.db
    .transaction()
    .execute((tx) => withdrawFromPrequeue(tx, purchaseId, deps.outbox));
  if (withdrawn !== undefined) return withdrawn;
  const marked = await deps.db.transaction().execute((tx) => markCancellationRequested(tx, purchaseId));
  if (marked === undefined) {
    const current = await findPurchaseViewRow(deps.db, purchaseId);
    if (current === undefined) throw notFound('Purchase');
    const refusal = checkCancellable({
      status: current.status,
      cancelRequested: current.cancelRequestedAt !== null,
      expiring: current.expireSeq !== null,
    });
    throw refusal === undefined ? notFound('Purchase') : conflict(refusal.code, refusal.message);
  }
  const enqueueError = await deps.purchases.enqueue({
    kind: 'cancel',
    eventId: marked.eventId,
    purchaseId: marked.id,
    seq: marked.cancelSeq ?? Number.MAX_SAFE_INTEGER,
  });
  if (enqueueError !== undefined) {
    await clearCancellationRequest(deps.db, purchaseId).catch(() => undefined);
    throw Object.assign(unavailable(), { cause: enqueueError });
  }
  return marked;
}
