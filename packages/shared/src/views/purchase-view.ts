import type { PurchaseRow } from '../db/database.js';
import type { PurchaseUpdate } from '../queue/purchase-updates.js';
import type { QueuePosition } from '../queue/queue-positions.js';
import type { PurchaseStatus, PurchaseReason } from '../domain/purchase.js';

// Not a rule, so not in domain/: the shape clients see and the mapping to it from a row, shared by
// the api's answers and the webhooks' payloads.

export type PurchaseViewRow = PurchaseRow & {
  bookingId: string | null;
  waitlistPosition: number | null;
  paymentReference: string | null;
};

/**
 * A purchase as clients see it: the api's answers (whose TypeBox schema, `Purchase` in the OpenAPI
 * document, has this type) and the `data` of purchase webhooks.
 */
export interface PurchaseView {
  readonly purchaseId: string;
  readonly eventId: string;
  readonly userId: string;
  readonly quantity: number;
  readonly status: PurchaseStatus;
  readonly bookingId?: string;
  /** Held: until when the tickets are kept for payment. */
  readonly holdExpiresAt?: string;
  /** Confirmed from a hold: the shop's reference for the payment, kept on the booking. */
  readonly paymentReference?: string;
  readonly waitlistPosition?: number;
  readonly reason?: PurchaseReason;
  readonly cancellationRequested: boolean;
  readonly createdAt: string;
  readonly processedAt?: string;
  readonly queuePosition?: number;
  readonly estimatedWaitMs?: number;
}

/** Waiting in line: queued, or pre-queued (with a place once the draw is made). */
const isWaiting = (row: PurchaseRow): boolean => row.status === 'queued' || row.status === 'prequeued';

/** The one place a purchase row becomes what clients see (with its place in line while queued). */
export function toPurchaseView(row: PurchaseViewRow, position?: QueuePosition): PurchaseView {
  return {
    purchaseId: row.id,
    eventId: row.eventId,
    userId: row.userId,
    quantity: row.quantity,
    status: row.status,
    ...(row.bookingId !== null && row.status === 'confirmed' ? { bookingId: row.bookingId } : {}),
    ...(row.holdExpiresAt !== null && row.status === 'held'
      ? { holdExpiresAt: row.holdExpiresAt.toISOString() }
      : {}),
    ...(row.paymentReference !== null && row.status === 'confirmed'
      ? { paymentReference: row.paymentReference }
      : {}),
    ...(row.waitlistPosition !== null && row.status === 'waitlisted'
      ? { waitlistPosition: row.waitlistPosition }
      : {}),
    ...(row.reason !== null ? { reason: row.reason } : {}),
    cancellationRequested: row.cancelRequestedAt !== null,
    createdAt: row.createdAt.toISOString(),
    ...(row.processedAt !== null ? { processedAt: row.processedAt.toISOString() } : {}),
    ...(position !== undefined && isWaiting(row) ? { queuePosition: position.ahead } : {}),
    ...(position?.estimatedWaitMs !== undefined && isWaiting(row)
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
  holdExpiresAt: update.holdExpiresAt === null ? row.holdExpiresAt : new Date(update.holdExpiresAt),
  processedAt: new Date(update.processedAt),
});
