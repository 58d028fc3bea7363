import { Type, type Static } from 'typebox';
import { Uuid } from '../http/common.schemas.js';

export const SaleOverviewItem = Type.Object({
  eventId: Uuid,
  name: Type.String(),
  totalTickets: Type.Integer(),
  soldTickets: Type.Integer(),
  availableTickets: Type.Integer(),
  waitlisted: Type.Integer({ description: 'Purchases on the waiting list now' }),
  queueDepth: Type.Integer({ description: 'Jobs of the event not yet finished by a worker' }),
  decided: Type.Integer({ description: 'Purchases of the event the workers have decided so far' }),
  outcomes: Type.Object(
    {
      confirmed: Type.Integer({ description: 'Purchases holding tickets now' }),
      waitlisted: Type.Integer({ description: 'Purchases on the waiting list now' }),
      rejected: Type.Integer({
        description: 'Decided purchases in none of the other states: rejected (derived from `decided`)',
      }),
      cancelled: Type.Integer({ description: 'Purchases cancelled after their decision' }),
    },
    { description: 'Decided purchases by the state they are in now: the monitor charts their rates' },
  ),
  decidedPerSecond: Type.Union([Type.Number(), Type.Null()], {
    description: 'Smoothed rate while the event was last being drained; null before any batch',
  }),
  revenueCents: Type.Integer(),
  currency: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
});

export const SaleOverview = Type.Object(
  {
    at: Type.String({ format: 'date-time', description: 'When these figures were read' }),
    items: Type.Array(SaleOverviewItem, { description: 'The newest events first' }),
  },
  { description: 'The on-sale monitor’s figures' },
);
export type SaleOverview = Static<typeof SaleOverview>;
