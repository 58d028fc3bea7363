import {
  checkCancellable,
  conflict,
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

export interface RequestCancellationDeps {
  readonly db: Kysely<Database>;
  readonly queues: EventQueues;
}

/**
 * Records the request and puts the cancellation in the event's queue, behind every purchase accepted
 * before it, so it is applied in order like everything else. Asking twice is a 409.
 */
export async function requestCancellation(
  deps: RequestCancellationDeps,
  purchaseId: string,
): Promise<PurchaseRow> {
  const marked = await markCancellationRequested(deps.db, purchaseId);
  if (marked === undefined) {
    const current = await findPurchaseViewRow(deps.db, purchaseId);
    if (current === undefined) throw notFound('Purchase');
    const refusal = checkCancellable({
      status: current.status,
      cancelRequested: current.cancelRequestedAt !== null,
    });
    throw refusal === undefined ? notFound('Purchase') : conflict(refusal.code, refusal.message);
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
