import { PURCHASE_STATUSES, type PurchaseStatus } from '../domain/purchase.js';

/** The statuses a purchase moves to (it is created queued). */
type ChangedStatus = Exclude<PurchaseStatus, 'queued'>;

/** What an operator did to an event's sale (docs/running-a-sale.md), or its end. */
export const EVENT_CHANGE_TYPES = [
  'event.updated',
  'event.paused',
  'event.resumed',
  'event.ended',
  'event.cancelled',
] as const;
export type EventChangeType = (typeof EVENT_CHANGE_TYPES)[number];

export type WebhookEventType =
  | `purchase.${ChangedStatus}`
  | 'purchase.promoted'
  | 'event.sold_out'
  | 'event.sale_started'
  | EventChangeType;

/**
 * Every webhook event type, declared once: each status a purchase can move to is `purchase.<status>`
 * (so a status added to `PURCHASE_STATUSES`, such as a hold's, has its type at once); a confirmation
 * off the waiting list is `purchase.promoted` instead of `purchase.confirmed`; an event whose last
 * ticket was sold is `event.sold_out`; an event whose sale started (its draw made) is `event.sale_started`;
 * what an operator did to a sale, or its end, is one of `EVENT_CHANGE_TYPES`.
 */
export const WEBHOOK_EVENT_TYPES: readonly WebhookEventType[] = [
  ...PURCHASE_STATUSES.filter((status): status is ChangedStatus => status !== 'queued').map(
    (status) => `purchase.${status}` as const,
  ),
  'purchase.promoted',
  'event.sold_out',
  'event.sale_started',
  ...EVENT_CHANGE_TYPES,
];

/** What a purchase's change is announced as. */
export const purchaseEventType = (change: { status: ChangedStatus; promoted?: boolean }): WebhookEventType =>
  change.promoted === true ? 'purchase.promoted' : `purchase.${change.status}`;
