import { saleWindowState, type SaleWindow, type SaleWindowState } from './sale-window.js';

/**
 * Running a sale (docs/running-a-sale.md): what an operator may do to an event's sale and when. Times
 * are passed in (Postgres's clock), as for the sale window.
 */

/** An event's sale as the api, the metrics and the monitor show it: its window, paused or cancelled. */
export const SALE_STATES = ['scheduled', 'prequeue', 'on_sale', 'paused', 'ended', 'cancelled'] as const;
export type SaleState = (typeof SALE_STATES)[number];

/** What an operator set on an event, besides its window. */
export interface SaleControl {
  /** Paused since: purchases are accepted and keep their place, nothing is decided until the resume. */
  readonly pausedAt: Date | null;
  /** Cancelled for good. */
  readonly cancelledAt: Date | null;
}

/**
 * A cancelled event is cancelled whatever its window says; an ended one is ended even if it was paused
 * when it ended (its remaining decisions wait for the resume all the same); a pause shows over the
 * window's own state before the end.
 */
export function saleState(event: SaleWindow & SaleControl, now: Date): SaleState {
  if (event.cancelledAt !== null) return 'cancelled';
  const window: SaleWindowState = saleWindowState(event, now);
  if (window === 'ended') return 'ended';
  return event.pausedAt !== null ? 'paused' : window;
}

/** What an operator asks of a sale. `edit`: name, price, per-purchase limit, hold time. */
export type SaleOperation = 'pause' | 'resume' | 'close' | 'cancel' | 'edit' | 'resize' | 'reschedule';

/** Every code an operation on a sale is refused with, each a 409. */
export const SALE_OPERATION_REFUSAL_CODES = ['event_cancelled', 'sale_ended', 'below_sold_and_held'] as const;
export type SaleOperationRefusalCode = (typeof SALE_OPERATION_REFUSAL_CODES)[number];

export interface SaleOperationRefusal {
  readonly code: SaleOperationRefusalCode;
  readonly message: string;
}

/**
 * Whether an operation changes something (`apply`), is a repeat of one already done (`repeat`: the
 * route answers as if it had just done it, so retries are safe), or is refused.
 */
export type OperationVerdict =
  | { readonly kind: 'apply' }
  | { readonly kind: 'repeat' }
  | ({ readonly kind: 'refused' } & SaleOperationRefusal);

const refused = (code: SaleOperationRefusalCode, message: string): OperationVerdict => ({
  kind: 'refused',
  code,
  message,
});
const APPLY: OperationVerdict = { kind: 'apply' };
const REPEAT: OperationVerdict = { kind: 'repeat' };

export function checkSaleOperation(
  event: SaleWindow & SaleControl,
  now: Date,
  operation: SaleOperation,
): OperationVerdict {
  const state = saleState(event, now);
  if (state === 'cancelled')
    return operation === 'cancel' ? REPEAT : refused('event_cancelled', 'This event is cancelled');
  const ended = state === 'ended';
  switch (operation) {
    case 'cancel':
    case 'edit':
      return APPLY;
    case 'close':
      return ended ? REPEAT : APPLY;
    case 'pause':
      if (ended) return refused('sale_ended', 'The sale has ended: there is nothing left to pause');
      return event.pausedAt !== null ? REPEAT : APPLY;
    case 'resume':
      // An event that ended while paused still has its remaining decisions to make: resuming it is allowed.
      return event.pausedAt !== null ? APPLY : REPEAT;
    case 'resize':
    case 'reschedule':
      return ended
        ? refused('sale_ended', 'The sale has ended: its tickets and its end can no longer change')
        : APPLY;
  }
}

/** Tickets of an event that are taken: sold, or held for payment. */
export interface TakenTickets {
  readonly soldTickets: number;
  readonly heldTickets: number;
}

/** A smaller total may take away only tickets neither sold nor held. */
export function checkResize(taken: TakenTickets, totalTickets: number): SaleOperationRefusal | undefined {
  const minimum = taken.soldTickets + taken.heldTickets;
  if (totalTickets >= minimum) return undefined;
  return {
    code: 'below_sold_and_held',
    message: `totalTickets cannot be below the ${minimum} tickets sold or held`,
  };
}

/**
 * The total a resize gives when its turn in the queue comes: the one asked for, or, if purchases
 * decided before it took more tickets since it was asked, every ticket taken then (it never takes a
 * sold or held ticket away). Tickets it adds go to the waiting list first, in line order.
 */
export function resizedTotal(taken: TakenTickets, totalTickets: number): number {
  return Math.max(totalTickets, taken.soldTickets + taken.heldTickets);
}

/** What a status change to tickets coming back (a cancellation, an expiry, a resize) does with them. */
export type FreedTickets =
  /** Given to the waiting list now, in line order while its head fits. */
  | 'promote'
  /** Kept free until the resume, which gives them to the waiting list before deciding anything else. */
  | 'promote_at_resume'
  /** The sale is over: the waiting list is closed and nobody may buy them. */
  | 'keep';

export function freedTickets(event: {
  readonly pausedAt: Date | null;
  readonly closedAt: Date | null;
}): FreedTickets {
  if (event.closedAt !== null) return 'keep';
  return event.pausedAt !== null ? 'promote_at_resume' : 'promote';
}
