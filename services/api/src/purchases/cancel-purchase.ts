import {
  checkCancellable,
  notFound,
  unavailable,
  type Database,
  type EventQueues,
  type PurchaseRow,
} from '@ticketing/shared';
import type { Kysely } from 'kysely';
import {
  clearCancellationRequest,
  findPurchaseViewRow,
  markCancellationRequested,
} from './purchases.repository.js';

export interface CancelPurchaseDeps {
  readonly db: Kysely<Database>;
  readonly queues: EventQueues;
}

/**
 * Records the request and puts the cancellation in the event's queue, behind every purchase accepted
 * before it, so it is applied in order like everything else. Asking twice is a 409.
 */
export async function requestCancellation(
  deps: CancelPurchaseDeps,
  purchaseId: string,
): Promise<PurchaseRow> {
  const marked = await deps.db.transaction().execute((tx) => markCancellationRequested(tx, purchaseId));
  if (marked === undefined) {
    const current = await findPurchaseViewRow(deps.db, purchaseId);
    if (current === undefined) throw notFound('Purchase');
    throw (
      checkCancellable({ status: current.status, cancelRequested: current.cancelRequestedAt !== null }) ??
      notFound('Purchase')
    );
  }
  try {
    await deps.queues.enqueue({
      kind: 'cancel',
      eventId: marked.eventId,
      purchaseId: marked.id,
      seq: marked.cancelSeq ?? Number.MAX_SAFE_INTEGER,
    });
  } catch (error) {
    await clearCancellationRequest(deps.db, purchaseId).catch(() => undefined);
    throw Object.assign(unavailable(), { cause: error });
  }
  return marked;
}
