/**
 * An event's sale window: when purchases are refused, pre-queued or decided. Times are passed in (read
 * from Postgres's clock by the caller), so every api and worker process agrees on them.
 */
export const SALE_WINDOW_STATES = ['scheduled', 'prequeue', 'on_sale', 'ended'] as const;
export type SaleWindowState = (typeof SALE_WINDOW_STATES)[number];

export interface SaleWindow {
  /** Without a start, the event is on sale from creation. */
  readonly salesStartAt: Date | null;
  readonly salesEndAt: Date | null;
  /** Without it, the pre-queue is open from creation until the start. */
  readonly preQueueOpensAt: Date | null;
}

export function saleWindowState(window: SaleWindow, now: Date): SaleWindowState {
  const t = now.getTime();
  if (window.salesEndAt && t >= window.salesEndAt.getTime()) return 'ended';
  if (window.salesStartAt && t < window.salesStartAt.getTime())
    return window.preQueueOpensAt && t < window.preQueueOpensAt.getTime() ? 'scheduled' : 'prequeue';
  return 'on_sale';
}

export type SaleWindowProblem = { readonly field: keyof SaleWindow; readonly message: string };

/** The window's own consistency: start before end, pre-queue opening no later than the start. */
export function checkSaleWindow(window: SaleWindow): SaleWindowProblem | null {
  const { salesStartAt: start, salesEndAt: end, preQueueOpensAt: opens } = window;
  if (start && end && start.getTime() >= end.getTime())
    return { field: 'salesEndAt', message: 'salesEndAt must be after salesStartAt' };
  if (opens && !start) return { field: 'preQueueOpensAt', message: 'preQueueOpensAt needs salesStartAt' };
  if (opens && start && opens.getTime() > start.getTime())
    return { field: 'preQueueOpensAt', message: 'preQueueOpensAt must not be after salesStartAt' };
  return null;
}

/** Why a purchase request is refused by its event's sale window, pre-queue or cancellation (each a 409). */
export const SALE_REFUSAL_CODES = [
  'sale_not_open',
  'sale_ended',
  'already_queued',
  'event_cancelled',
] as const;

/** What becomes of a purchase request at a moment of the window. */
export type Admission = 'sale_not_open' | 'prequeued' | 'queued' | 'sale_ended';

/**
 * A purchase request at `now` (Postgres's clock when it is numbered): refused before the pre-queue
 * opens and after the end, pre-queued before the start, queued from it on. The api's insert states the
 * same in SQL, so that it is judged under the accepting lock.
 */
export function admission(window: SaleWindow, now: Date): Admission {
  switch (saleWindowState(window, now)) {
    case 'scheduled':
      return 'sale_not_open';
    case 'prequeue':
      return 'prequeued';
    case 'on_sale':
      return 'queued';
    case 'ended':
      return 'sale_ended';
  }
}
