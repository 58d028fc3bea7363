import {
  PURCHASE_STATUSES,
  REJECTION_REASONS,
  type PurchaseStatus,
  type PurchaseReason,
} from '../domain/purchase.js';

/**
 * A purchase's new state as a worker committed it, announced on the purchase-updates channel right after the
 * commit. Long-polling requests answer from it instead of reading Postgres again.
 */
export interface PurchaseUpdate {
  readonly id: string;
  /** Never an undecided status: workers announce decisions (a pre-queue entry is no decision). */
  readonly status: Exclude<PurchaseStatus, 'queued' | 'prequeued'>;
  readonly bookingId: string | null;
  readonly waitlistPosition: number | null;
  readonly reason: PurchaseReason | null;
  /** While held: when the hold runs out (ISO timestamp). */
  readonly holdExpiresAt: string | null;
  /** ISO timestamp, as stored in `purchases.processed_at`. */
  readonly processedAt: string;
}

/** Channel on which workers announce updates, to wake long-polling requests. */
export const purchaseUpdatesChannel = (prefix: string): string => `${prefix}:purchases:updated`;

const UPDATE_STATUSES: ReadonlySet<unknown> = new Set(
  PURCHASE_STATUSES.filter((status) => status !== 'queued' && status !== 'prequeued'),
);

const REASONS: ReadonlySet<unknown> = new Set(REJECTION_REASONS);

/**
 * Reads an announcement. Pub/sub is a trust boundary like the queues: anything that is not a list of
 * well-formed updates is dropped (the waiting requests then re-read Postgres on their own).
 */
export function parsePurchaseUpdates(message: string): PurchaseUpdate[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  return parsed.filter(
    (item: unknown): item is PurchaseUpdate =>
      typeof item === 'object' &&
      item !== null &&
      'id' in item &&
      typeof item.id === 'string' &&
      'status' in item &&
      UPDATE_STATUSES.has(item.status) &&
      'bookingId' in item &&
      (item.bookingId === null || typeof item.bookingId === 'string') &&
      'waitlistPosition' in item &&
      (item.waitlistPosition === null || Number.isInteger(item.waitlistPosition)) &&
      'reason' in item &&
      (item.reason === null || REASONS.has(item.reason)) &&
      'holdExpiresAt' in item &&
      (item.holdExpiresAt === null || typeof item.holdExpiresAt === 'string') &&
      'processedAt' in item &&
      typeof item.processedAt === 'string',
  );
}
