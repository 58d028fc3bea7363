import type { PurchaseStatus } from './purchase.js';

/**
 * Checkout holds: on an event with `holdSeconds`, a purchase that gets tickets is `held` until the shop
 * confirms its payment, or until `holdExpiresAt`, when it is `expired` and its tickets go to the next in
 * line. Pure rules only; Postgres enforces them with conditional statements on its own clock.
 */

/** The longest hold an event may set: a checkout, not a reservation. */
export const MAX_HOLD_SECONDS = 3600;

/** What an expiry does to a purchase once its turn in the event queue comes. */
export type ExpiryEffect =
  | 'free_hold' // still held: free its tickets, then promote the waiting list
  | 'none'; // confirmed in time, or cancelled first: the expiry changes nothing

export const expiryEffect = (status: PurchaseStatus): ExpiryEffect =>
  status === 'held' ? 'free_hold' : 'none';

/** Every code a confirmation is refused with, listed once: the api's OpenAPI 409 names each. */
export const CONFIRM_REFUSAL_CODES = [
  'hold_expired',
  'purchase_cancelled',
  'not_decided',
  'not_held',
  'payment_reference_mismatch',
  'event_cancelled',
] as const;

export interface ConfirmRefusal {
  readonly code: (typeof CONFIRM_REFUSAL_CODES)[number];
  readonly message: string;
}

export type ConfirmCheck =
  | { readonly kind: 'confirm' }
  /** Confirmed already (a repeated confirm, or an event without holds): the same answer again. */
  | { readonly kind: 'already_confirmed' }
  | { readonly kind: 'refused'; readonly refusal: ConfirmRefusal };

/**
 * What `POST /purchases/:id/confirm` does with a purchase. Only a hold that is still held, not past its
 * time (by the database's clock: `pastHoldExpiry`) and not being cancelled is confirmed. A purchase
 * already confirmed answers the same again (the first confirmation's reference stands), unless it was
 * confirmed with one payment reference and the request names another: that would be a second payment
 * for the same tickets, which the shop must hear about. Nothing of a cancelled event is confirmed, and
 * a repeat of a confirmation made before the cancellation hears of it too: that booking is refunded.
 */
export function checkConfirmable(
  purchase: {
    readonly status: PurchaseStatus;
    readonly cancelRequested: boolean;
    readonly pastHoldExpiry: boolean;
    readonly paymentReference: string | null;
    /** Its event is cancelled (docs/running-a-sale.md). */
    readonly eventCancelled: boolean;
  },
  paymentReference: string | undefined,
): ConfirmCheck {
  const refused = (code: ConfirmRefusal['code'], message: string): ConfirmCheck => ({
    kind: 'refused',
    refusal: { code, message },
  });
  if (purchase.eventCancelled) return refused('event_cancelled', 'This event is cancelled');
  switch (purchase.status) {
    case 'confirmed':
      return paymentReference === undefined ||
        purchase.paymentReference === null ||
        paymentReference === purchase.paymentReference
        ? { kind: 'already_confirmed' }
        : refused(
            'payment_reference_mismatch',
            'This purchase is already confirmed with another payment reference',
          );
    case 'held':
      if (purchase.cancelRequested)
        return refused('purchase_cancelled', 'This hold is being cancelled and cannot be confirmed');
      if (purchase.pastHoldExpiry)
        return refused('hold_expired', 'This hold ran out before it was confirmed; its tickets went back');
      return { kind: 'confirm' };
    case 'expired':
      return refused('hold_expired', 'This hold ran out before it was confirmed; its tickets went back');
    case 'cancelled':
      return refused('purchase_cancelled', 'This purchase was cancelled');
    case 'prequeued':
    case 'queued':
      return refused('not_decided', 'This purchase is not decided yet; confirm it once it is held');
    case 'waitlisted':
    case 'rejected':
      return refused('not_held', 'This purchase holds no tickets to confirm');
  }
}
