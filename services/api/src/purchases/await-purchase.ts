import { isSettled } from '@ticketing/shared';
import type { PurchaseBatching } from './purchase-batching.js';
import type { PurchaseViewRow } from './purchase-view.js';
import type { SettlementListener } from './settlement-listener.js';

/** Announcements travel over pub/sub, which may drop one; re-reading this often bounds the delay. */
const RECHECK_MS = 1_000;

export interface AwaitPurchaseDeps {
  readonly purchases: PurchaseBatching;
  readonly settlements: SettlementListener;
}

/**
 * Reads a purchase, waiting up to `waitMs` for it to reach the state `isDone` looks for (by default:
 * decided). Postgres stays the source of truth; announcements only say when to read it again.
 */
export async function awaitPurchase(
  deps: AwaitPurchaseDeps,
  purchaseId: string,
  waitMs: number,
  isDone: (row: PurchaseViewRow) => boolean = (row) => isSettled(row.status),
): Promise<PurchaseViewRow | undefined> {
  const deadline = Date.now() + waitMs;
  const watch = waitMs > 0 ? deps.settlements.watch(purchaseId) : undefined;
  try {
    for (;;) {
      const row = await deps.purchases.loadView(purchaseId);
      const remaining = deadline - Date.now();
      const stop = watch === undefined || remaining <= 0 || deps.settlements.released;
      if (row === undefined || isDone(row) || stop) return row;
      await watch.wait(Math.min(remaining, RECHECK_MS));
    }
  } finally {
    watch?.close();
  }
}
