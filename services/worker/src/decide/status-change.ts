import type { PurchaseChange, PurchaseUpdate } from '@ticketing/shared';

/** A purchase's new status, as one statement of a round's transaction writes it (and the outbox reads). */
export type StatusChange = PurchaseChange & { readonly status: PurchaseUpdate['status'] };

/** What an announcement says of a status change committed at `decidedAt`. */
export const toPurchaseUpdate = (change: StatusChange, decidedAt: Date): PurchaseUpdate => ({
  id: change.purchaseId,
  status: change.status,
  bookingId: change.bookingId ?? null,
  waitlistPosition: change.waitlistPosition ?? null,
  reason: change.reason ?? null,
  holdExpiresAt: change.holdExpiresAt?.toISOString() ?? null,
  processedAt: decidedAt.toISOString(),
});
