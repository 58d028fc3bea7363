import type { PurchaseStatus, RejectionReason, PurchaseUpdate } from '@ticketing/shared';

/** A purchase's new status, as one statement of a round's transaction writes it. */
export interface StatusChange {
  readonly purchaseId: string;
  readonly status: Exclude<PurchaseStatus, 'queued'>;
  readonly reason?: RejectionReason;
  readonly bookingId?: string;
  readonly waitlistPosition?: number;
}

/** What an announcement says of a status change committed at `decidedAt`. */
export const toPurchaseUpdate = (change: StatusChange, decidedAt: Date): PurchaseUpdate => ({
  id: change.purchaseId,
  status: change.status,
  bookingId: change.bookingId ?? null,
  waitlistPosition: change.waitlistPosition ?? null,
  reason: change.reason ?? null,
  processedAt: decidedAt.toISOString(),
});
