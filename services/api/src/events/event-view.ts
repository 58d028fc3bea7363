import type { EventRow } from '@ticketing/shared';
import type { EventView } from './events.schemas.js';

/** Tickets neither sold nor held: what the next in line can still get. */
export const availableTickets = (
  row: Pick<EventRow, 'totalTickets' | 'soldTickets' | 'heldTickets'>,
): number => row.totalTickets - row.soldTickets - row.heldTickets;

export const toEventView = (row: EventRow): EventView => ({
  id: row.id,
  name: row.name,
  totalTickets: row.totalTickets,
  availableTickets: availableTickets(row),
  priceCents: row.priceCents,
  currency: row.currency,
  maxPerPurchase: row.maxPerPurchase,
  holdSeconds: row.holdSeconds,
  createdAt: row.createdAt.toISOString(),
});
