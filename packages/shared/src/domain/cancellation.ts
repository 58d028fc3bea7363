import type { PurchaseStatus } from './purchase.js';

/** What a cancellation does to a purchase in each status, once its turn in the event queue comes. */
export type CancellationEffect =
  | 'free_booking' // confirmed: free its tickets, then promote the waiting list
  | 'free_hold' // held: free its tickets, then promote the waiting list
  | 'leave_waitlist' // waitlisted: drop out of the line
  | 'withdraw' // still queued or pre-queued: it will never be decided
  | 'none'; // already cancelled, rejected or expired: a re-delivered cancellation changes nothing

export function cancellationEffect(status: PurchaseStatus): CancellationEffect {
  switch (status) {
    case 'confirmed':
      return 'free_booking';
    case 'held':
      return 'free_hold';
    case 'waitlisted':
      return 'leave_waitlist';
    case 'prequeued':
    case 'queued':
      return 'withdraw';
    case 'rejected':
    case 'cancelled':
    case 'expired':
      return 'none';
  }
}

/** Every code a cancellation is refused with, listed once: the api's OpenAPI 409 names each. */
export const CANCELLATION_REFUSAL_CODES = ['already_cancelled', 'not_cancellable', 'hold_expired'] as const;

/** Why a cancellation may not be asked for: a domain refusal, which the api turns into a 409. */
export interface CancellationRefusal {
  readonly code: (typeof CANCELLATION_REFUSAL_CODES)[number];
  readonly message: string;
}

/** Whether a buyer may ask to cancel now; asking twice is refused, not a second cancellation. */
export function checkCancellable(purchase: {
  readonly status: PurchaseStatus;
  readonly cancelRequested: boolean;
  /** A hold whose expiry already has its place in the queue: it is on its way out. */
  readonly expiring: boolean;
}): CancellationRefusal | undefined {
  if (purchase.status === 'cancelled' || purchase.cancelRequested) {
    return { code: 'already_cancelled', message: 'This purchase is already cancelled or being cancelled' };
  }
  if (purchase.status === 'rejected') {
    return { code: 'not_cancellable', message: 'A rejected purchase holds no tickets to cancel' };
  }
  if (purchase.status === 'expired' || purchase.expiring) {
    return { code: 'hold_expired', message: 'This hold ran out; its tickets are already going back' };
  }
  return undefined;
}
