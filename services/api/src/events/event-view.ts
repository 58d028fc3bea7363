import { saleState, type EventRow } from '@ticketing/shared';
import type { EventRowAt } from './events.repository.js';
import type { EventView } from './events.schemas.js';

/** Tickets neither sold nor held: what the next in line can still get. */
export const availableTickets = (
  row: Pick<EventRow, 'totalTickets' | 'soldTickets' | 'heldTickets'>,
): number => row.totalTickets - row.soldTickets - row.heldTickets;

/** The sale window as clients see it, with its state by Postgres's clock when the row was read. */
export const toSaleWindowView = (row: EventRowAt) => ({
  salesStartAt: row.salesStartAt?.toISOString() ?? null,
  salesEndAt: row.salesEndAt?.toISOString() ?? null,
  preQueueOpensAt: row.preQueueOpensAt?.toISOString() ?? null,
  saleState: saleState(row, row.dbNow),
});

export const toEventView = (row: EventRowAt): EventView => ({
  id: row.id,
  name: row.name,
  totalTickets: row.totalTickets,
  availableTickets: availableTickets(row),
  priceCents: row.priceCents,
  currency: row.currency,
  maxPerPurchase: row.maxPerPurchase,
  holdSeconds: row.holdSeconds,
  createdAt: row.createdAt.toISOString(),
  ...toSaleWindowView(row),
  pausedAt: row.pausedAt?.toISOString() ?? null,
  pendingTotalTickets: row.pendingTotalTickets,
  closedAt: row.closedAt?.toISOString() ?? null,
  cancellation:
    row.cancelledAt === null
      ? null
      : {
          reason: row.cancellationReason ?? '',
          requestedAt: row.cancelledAt.toISOString(),
          finishedAt: row.cancellationFinishedAt?.toISOString() ?? null,
        },
});
