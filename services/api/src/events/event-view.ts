import type { EventRow } from '@ticketing/shared';
import type { EventView } from './events.schemas.js';

export const toEventView = (row: EventRow): EventView => ({
  id: row.id,
  name: row.name,
  totalTickets: row.totalTickets,
  availableTickets: row.totalTickets - row.soldTickets,
  priceCents: row.priceCents,
  currency: row.currency,
  maxPerPurchase: row.maxPerPurchase,
  createdAt: row.createdAt.toISOString(),
});
