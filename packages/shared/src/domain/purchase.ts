/**
 * Purchase decisions: pure functions from the state of a sale to what happens to each purchase, in queue
 * order. No I/O here: the worker loads the state, asks these functions, and persists the answer.
 */
export const PURCHASE_STATUSES = [
  'prequeued',
  'queued',
  'held',
  'confirmed',
  'waitlisted',
  'rejected',
  'cancelled',
  'expired',
] as const;
export type PurchaseStatus = (typeof PURCHASE_STATUSES)[number];

/** Why a purchase was rejected: no tickets, a second purchase, or still waiting when the sale ended. */
export const REJECTION_REASONS = ['sold_out', 'duplicate_purchase', 'sale_ended'] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

/** Why a purchase was cancelled when not at its buyer's request (a buyer's cancellation has no reason). */
export const CANCELLATION_REASONS = ['event_cancelled'] as const;
export type CancellationReason = (typeof CANCELLATION_REASONS)[number];

/** A purchase's `reason`: set on every rejection, and on a cancellation that was not the buyer's. */
export const PURCHASE_REASONS = [...REJECTION_REASONS, ...CANCELLATION_REASONS] as const;
export type PurchaseReason = (typeof PURCHASE_REASONS)[number];

/**
 * A purchase is placed once it is decided into a place it keeps: tickets held or sold, or a place on
 * the waiting list. A user has one placed purchase per event at most.
 */
export const PLACED_STATUSES: readonly PurchaseStatus[] = ['held', 'confirmed', 'waitlisted'];

/** A purchase is active while it holds, or may come to hold, tickets: placed, or still (pre-)queued. */
export const ACTIVE_STATUSES: readonly PurchaseStatus[] = ['prequeued', 'queued', ...PLACED_STATUSES];

/** Not decided yet: in the pre-queue (until the draw) or in the queue. */
export const isUndecided = (status: PurchaseStatus): status is 'prequeued' | 'queued' =>
  status === 'prequeued' || status === 'queued';

/** Statuses a buyer polling for an outcome can stop waiting on. */
export const isDecided = (status: PurchaseStatus): boolean => !isUndecided(status);

export const DEFAULT_MAX_PER_PURCHASE = 10;

/**
 * A purchase that gets tickets is held for payment on an event with holds (`holds`), else confirmed:
 * the rest of the rules treat both alike, since held tickets are as taken as sold ones.
 */
export interface DecisionState {
  /** Tickets neither sold nor held. */
  readonly availableTickets: number;
  /** The event holds tickets for payment (it has `holdSeconds`) instead of confirming at once. */
  readonly holds: boolean;
  /** Purchases on the waiting list; while anyone waits, nobody new may overtake them. */
  readonly waitlistLength: number;
  /** Users who already have a placed purchase (held, confirmed or waitlisted) for this event. */
  readonly placedUsers: ReadonlySet<string>;
}

export interface PendingPurchase {
  readonly id: string;
  readonly userId: string;
  readonly quantity: number;
  readonly joinWaitlist: boolean;
}

export type PurchaseDecision =
  | { readonly status: 'held' }
  | { readonly status: 'confirmed' }
  | { readonly status: 'waitlisted'; readonly waitlistPosition: number }
  | { readonly status: 'rejected'; readonly reason: RejectionReason };

export function decidePurchase(state: DecisionState, purchase: PendingPurchase): PurchaseDecision {
  if (state.placedUsers.has(purchase.userId)) return { status: 'rejected', reason: 'duplicate_purchase' };
  if (state.waitlistLength === 0 && purchase.quantity <= state.availableTickets)
    return state.holds ? { status: 'held' } : { status: 'confirmed' };
  if (!purchase.joinWaitlist) return { status: 'rejected', reason: 'sold_out' };
  return { status: 'waitlisted', waitlistPosition: state.waitlistLength + 1 };
}

export interface DecidedPurchase {
  readonly purchase: PendingPurchase;
  readonly decision: PurchaseDecision;
}

/** Decides purchases one after another in queue order, each seeing the effect of those before it. */
export function decidePurchases(
  initial: DecisionState,
  purchases: readonly PendingPurchase[],
): { decided: DecidedPurchase[]; state: DecisionState } {
  const decided: DecidedPurchase[] = [];
  let availableTickets = initial.availableTickets;
  let waitlistLength = initial.waitlistLength;
  // One mutable copy for the whole batch, instead of a new set per decision.
  const placedUsers = new Set(initial.placedUsers);
  for (const purchase of purchases) {
    const decision = decidePurchase(
      { availableTickets, holds: initial.holds, waitlistLength, placedUsers },
      purchase,
    );
    if (decision.status === 'confirmed' || decision.status === 'held') availableTickets -= purchase.quantity;
    if (decision.status === 'waitlisted') waitlistLength += 1;
    if (decision.status !== 'rejected') placedUsers.add(purchase.userId);
    decided.push({ purchase, decision });
  }
  return { decided, state: { availableTickets, holds: initial.holds, waitlistLength, placedUsers } };
}
