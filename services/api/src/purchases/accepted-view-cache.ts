import type { PurchaseViewRow } from '@ticketing/shared';

/** Far more than the purchases in flight at once; only lost announcements leave entries behind. */
const CAPACITY = 10_000;

/**
 * Purchases this process accepted and has not yet seen decided. A long-poll for one of them starts
 * from here instead of reading back the row it just wrote; the entry goes as soon as the purchase's
 * update is announced. Bounded: the oldest entries make way, and a miss only costs a read.
 */
export class AcceptedViewCache {
  private readonly rows = new Map<string, PurchaseViewRow>();

  remember(row: PurchaseViewRow): void {
    if (this.rows.size >= CAPACITY) {
      const oldest = this.rows.keys().next();
      if (oldest.done !== true) this.rows.delete(oldest.value);
    }
    this.rows.set(row.id, row);
  }

  get(purchaseId: string): PurchaseViewRow | undefined {
    return this.rows.get(purchaseId);
  }

  forget(purchaseId: string): void {
    this.rows.delete(purchaseId);
  }
}
