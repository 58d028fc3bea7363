import { isDecided, withUpdate, type PurchaseViewRow } from '@ticketing/shared';
import type { AcceptedViewCache } from './accepted-view-cache.js';
import type { PurchaseBatching } from './purchase-batching.js';
import type { PurchaseUpdateListener } from './purchase-update-listener.js';

/** Announcements travel over pub/sub, which may drop one; re-reading this often bounds the delay. */
const RECHECK_MS = 1_000;

export interface AwaitPurchaseDeps {
  readonly purchases: PurchaseBatching;
  readonly updates: PurchaseUpdateListener;
  readonly acceptedViews: AcceptedViewCache;
}

/**
 * Nothing is pending for the purchase: it is decided, and a cancellation requested of it is carried
 * out. (A long-poll of a purchase whose cancellation is pending waits for the cancellation rather than
 * answering at once with the decision it already had, which would leave its client polling in a loop.)
 */
export const isSettled = (row: PurchaseViewRow): boolean =>
  isDecided(row.status) && (row.cancelRequestedAt === null || row.status === 'cancelled');

/**
 * Reads a purchase, waiting up to `waitMs` for it to reach the state `isDone` looks for (by default:
 * settled). Waiting costs no reads: the worker's announcement carries the committed outcome. Postgres
 * is read when the wait starts (unless this process just accepted the purchase), when no announcement
 * came for a while, and for cancellations (whose view depends on more than the announcement says).
 */
export async function awaitPurchase(
  deps: AwaitPurchaseDeps,
  purchaseId: string,
  waitMs: number,
  isDone: (row: PurchaseViewRow) => boolean = isSettled,
): Promise<PurchaseViewRow | undefined> {
  if (waitMs <= 0) return deps.purchases.loadView(purchaseId);
  const deadline = Date.now() + waitMs;
  const watch = deps.updates.watch(purchaseId);
  try {
    const accepted = deps.acceptedViews.get(purchaseId);
    let row = accepted ?? (await deps.purchases.loadView(purchaseId));
    for (;;) {
      const remaining = deadline - Date.now();
      if (row === undefined || isDone(row)) return row;
      // Whatever is answered was read or announced, never only remembered.
      if (remaining <= 0 || deps.updates.stopping)
        return row === accepted ? deps.purchases.loadView(purchaseId) : row;
      const update = await watch.wait(Math.min(remaining, RECHECK_MS));
      row =
        update === undefined || update.status === 'cancelled'
          ? await deps.purchases.loadView(purchaseId)
          : withUpdate(row, update);
    }
  } finally {
    watch.close();
  }
}
