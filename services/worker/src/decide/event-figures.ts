import { saleState, type EventChange, type SaleState, type Tx } from '@ticketing/shared';
import { lockEvent } from './events.repository.js';

/** `data` of the `event.updated` and `event.ended` messages a round records: the event as the step left it. */
export interface EventFigures {
  readonly eventId: string;
  readonly totalTickets: number;
  readonly soldTickets: number;
  readonly heldTickets: number;
  readonly availableTickets: number;
  readonly saleState: SaleState;
}

/** The message of a step that changed the event itself (a resize, a close), read under its row lock. */
export async function eventChange(
  tx: Tx,
  eventId: string,
  type: Extract<EventChange['type'], 'event.updated' | 'event.ended'>,
): Promise<EventChange[]> {
  const event = await lockEvent(tx, eventId);
  if (event === undefined) return [];
  const data: EventFigures = {
    eventId,
    totalTickets: event.totalTickets,
    soldTickets: event.soldTickets,
    heldTickets: event.heldTickets,
    availableTickets: event.totalTickets - event.soldTickets - event.heldTickets,
    saleState: saleState(event, event.roundNow),
  };
  return [{ type, eventId, data }];
}
