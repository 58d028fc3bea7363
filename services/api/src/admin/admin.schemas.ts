import { Type, type Static } from 'typebox';
import { Uuid } from '../http/common.schemas.js';

export const SaleOverviewItem = Type.Object({
  eventId: Uuid,
  name: Type.String(),
  totalTickets: Type.Integer(),
  soldTickets: Type.Integer(),
  heldTickets: Type.Integer({ description: 'Tickets held for purchases awaiting payment' }),
  availableTickets: Type.Integer({ description: 'Tickets neither sold nor held' }),
  waitlisted: Type.Integer({ description: 'Purchases on the waiting list now' }),
  queueDepth: Type.Integer({ description: 'Jobs of the event not yet finished by a worker' }),
  decided: Type.Integer({ description: 'Purchases of the event the workers have decided so far' }),
  outcomes: Type.Object(
    {
      confirmed: Type.Integer({ description: 'Purchases holding sold tickets now' }),
      held: Type.Integer({ description: 'Purchases holding tickets for payment now' }),
      waitlisted: Type.Integer({ description: 'Purchases on the waiting list now' }),
      rejected: Type.Integer({
        description: 'Decided purchases in none of the other states: rejected (derived from `decided`)',
      }),
      cancelled: Type.Integer({ description: 'Purchases cancelled after their decision' }),
      expired: Type.Integer({ description: 'Holds that ran out unpaid' }),
    },
    { description: 'Decided purchases by the state they are in now: the monitor charts their rates' },
  ),
  decidedPerSecond: Type.Union([Type.Number(), Type.Null()], {
    description: 'Smoothed rate while the event was last being drained; null before any batch',
  }),
  holdsExpired: Type.Integer({ description: 'Holds of the event that ran out unpaid' }),
  revenueCents: Type.Integer(),
  currency: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  saleState: Type.String({
    description:
      '`scheduled`, `prequeue`, `on_sale`, `paused`, `ended` or `cancelled`, by the database clock ' +
      '(docs/running-a-sale.md)',
  }),
  salesStartAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  startsInMs: Type.Union([Type.Integer(), Type.Null()], {
    description:
      'Until the sale start by the database clock (the countdown); null without a start or after it',
  }),
  prequeueSize: Type.Integer({ description: 'Purchases in the pre-queue, waiting for the draw' }),
  cancellationLeft: Type.Integer({
    description: 'A cancelled event: purchases its cancellation has still to cancel (0 once done)',
  }),
});

export const SaleOverview = Type.Object(
  {
    at: Type.String({ format: 'date-time', description: 'When these figures were read' }),
    items: Type.Array(SaleOverviewItem, { description: 'The newest events first' }),
  },
  { description: 'The on-sale monitor’s figures' },
);
export type SaleOverview = Static<typeof SaleOverview>;
