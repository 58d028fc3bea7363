import { REJECTION_REASONS, type PurchaseStatus, type RejectionReason } from '../domain/purchase.js';

/**
 * A purchase's new state as a worker committed it, announced on the settled channel right after the
 * commit. Long-polling requests answer from it instead of reading Postgres again.
 */
export interface Settlement {
  readonly id: string;
  readonly status: Exclude<PurchaseStatus, 'queued'>;
  readonly bookingId: string | null;
  readonly waitlistPosition: number | null;
  readonly reason: RejectionReason | null;
  /** ISO timestamp, as stored in `purchases.processed_at`. */
  readonly processedAt: string;
}

/** Channel on which workers announce settlements, to wake long-polling requests. */
export const settledChannel = (prefix: string): string => `${prefix}:purchases:settled`;

const SETTLED_STATUSES: ReadonlySet<unknown> = new Set(['confirmed', 'waitlisted', 'rejected', 'cancelled']);

const REASONS: ReadonlySet<unknown> = new Set(REJECTION_REASONS);

/**
 * Reads an announcement. Pub/sub is a trust boundary like the queues: anything that is not a list of
 * well-formed settlements is dropped (the waiting requests then re-read Postgres on their own).
 */
export function parseSettlements(message: string): Settlement[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  return parsed.filter(
    (item: unknown): item is Settlement =>
      typeof item === 'object' &&
      item !== null &&
      'id' in item &&
      typeof item.id === 'string' &&
      'status' in item &&
      SETTLED_STATUSES.has(item.status) &&
      'bookingId' in item &&
      (item.bookingId === null || typeof item.bookingId === 'string') &&
      'waitlistPosition' in item &&
      (item.waitlistPosition === null || Number.isInteger(item.waitlistPosition)) &&
      'reason' in item &&
      (item.reason === null || REASONS.has(item.reason)) &&
      'processedAt' in item &&
      typeof item.processedAt === 'string',
  );
}
