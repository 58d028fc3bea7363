import { resizedTotal, type FreedTickets, type Tx } from '@ticketing/shared';
import type { Ended } from './ended.js';
import { eventChange } from './event-figures.js';
import { applyTotal, lockEvent } from './events.repository.js';
import { promoteWaitlist } from './promote-waitlist.js';

/**
 * Carries out a resize at its place in the queue: the total becomes the one asked for, or every ticket
 * sold or held now if purchases decided before it took more (`resizedTotal`), and tickets it adds go to
 * the waiting list first, in line order. The caller holds the event's row lock and has decided every
 * purchase accepted before the resize. Records `event.updated` with the figures it left.
 */
export async function applyResize(
  tx: Tx,
  eventId: string,
  resize: { readonly seq: number; readonly totalTickets: number },
  decidedAt: Date,
  freed: FreedTickets,
): Promise<Ended> {
  const event = await lockEvent(tx, eventId);
  if (event === undefined) return { ended: [], promoted: [], eventChanges: [] };
  await applyTotal(tx, eventId, resize.seq, resizedTotal(event, resize.totalTickets), decidedAt);
  const promoted = freed === 'promote' ? await promoteWaitlist(tx, eventId, decidedAt) : [];
  return { ended: [], promoted, eventChanges: await eventChange(tx, eventId, 'event.updated') };
}
