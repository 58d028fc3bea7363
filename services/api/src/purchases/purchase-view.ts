import type { PurchaseRow, QueuePosition, PurchaseUpdate } from '@ticketing/shared';
import type { PurchaseView } from './purchases.schemas.js';

export type PurchaseViewRow = PurchaseRow & { bookingId: string | null; waitlistPosition: number | null };

/** The one place a purchase row becomes what clients see (with its place in line while queued). */
export function toPurchaseView(row: PurchaseViewRow, position?: QueuePosition): PurchaseView {
  return {
    purchaseId: row.id,
    eventId: row.eventId,
    userId: row.userId,
    quantity: row.quantity,
    status: row.status,
    ...(row.bookingId !== null && row.status === 'confirmed' ? { bookingId: row.bookingId } : {}),
    ...(row.waitlistPosition !== null && row.status === 'waitlisted'
      ? { waitlistPosition: row.waitlistPosition }
      : {}),
    ...(row.reason !== null ? { reason: row.reason } : {}),
    cancellationRequested: row.cancelRequestedAt !== null,
    createdAt: row.createdAt.toISOString(),
    ...(row.processedAt !== null ? { processedAt: row.processedAt.toISOString() } : {}),
    ...(position !== undefined && row.status === 'queued' ? { queuePosition: position.ahead } : {}),
    ...(position?.estimatedWaitMs !== undefined && row.status === 'queued'
      ? { estimatedWaitMs: position.estimatedWaitMs }
      : {}),
  };
}

/** A purchase as a worker's announcement says it now stands. */
export const withUpdate = (row: PurchaseViewRow, update: PurchaseUpdate): PurchaseViewRow => ({
  ...row,
  status: update.status,
  reason: update.reason,
  bookingId: update.bookingId,
  waitlistPosition: update.waitlistPosition,
  processedAt: new Date(update.processedAt),
});
