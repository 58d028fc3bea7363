import { Type, type Static } from 'typebox';
import { DEFAULT_MAX_PER_PURCHASE, MAX_HOLD_SECONDS } from '@ticketing/shared';
import { Uuid } from '../http/common.schemas.js';

export const MAX_TOTAL_TICKETS = 10_000_000;
export const MAX_PRICE_CENTS = 100_000_000;
export const MAX_PER_PURCHASE_LIMIT = 100;
/** The page size of a list of events when the query names none. */
export const DEFAULT_PAGE_SIZE = 20;

const HOLD_SECONDS =
  'Hold tickets this long for payment: a purchase that gets tickets is `held` until confirmed ' +
  '(`POST /purchases/{id}/confirm`) or expired (its tickets go to the next in line). 0: confirmed at once';

export const CreateEventBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }),
    totalTickets: Type.Integer({ minimum: 1, maximum: MAX_TOTAL_TICKETS }),
    priceCents: Type.Integer({ minimum: 0, maximum: MAX_PRICE_CENTS, description: 'Price in minor units' }),
    currency: Type.Optional(
      Type.String({ pattern: '^[A-Z]{3}$', default: 'USD', description: 'ISO 4217 code' }),
    ),
    maxPerPurchase: Type.Optional(
      Type.Integer({ minimum: 1, maximum: MAX_PER_PURCHASE_LIMIT, default: DEFAULT_MAX_PER_PURCHASE }),
    ),
    holdSeconds: Type.Optional(
      Type.Integer({ minimum: 0, maximum: MAX_HOLD_SECONDS, default: 0, description: HOLD_SECONDS }),
    ),
  },
  { additionalProperties: false },
);
export type CreateEventInput = Static<typeof CreateEventBody>;

export const EventView = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    totalTickets: Type.Integer(),
    availableTickets: Type.Integer({ description: 'Tickets neither sold nor held' }),
    priceCents: Type.Integer(),
    currency: Type.String(),
    maxPerPurchase: Type.Integer(),
    holdSeconds: Type.Integer({ description: HOLD_SECONDS }),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Event', description: 'An event with its live availability' },
);
export type EventView = Static<typeof EventView>;

export const ListEventsQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: DEFAULT_PAGE_SIZE })),
    cursor: Type.Optional(Uuid),
  },
  { additionalProperties: false },
);

export const EventPage = Type.Object(
  {
    items: Type.Array(EventView),
    nextCursor: Type.Union([Uuid, Type.Null()], { description: 'Pass as `cursor` for the next page' }),
  },
  { description: 'A page of events in creation order' },
);

export const EventStatus = Type.Object(
  {
    eventId: Uuid,
    totalTickets: Type.Integer(),
    availableTickets: Type.Integer({ description: 'Tickets neither sold nor held: total − sold − held' }),
    soldTickets: Type.Integer({ description: 'Tickets of confirmed purchases' }),
    heldTickets: Type.Integer({ description: 'Tickets held for purchases awaiting payment' }),
    waitlistCount: Type.Integer(),
    queueDepth: Type.Integer({ description: 'Jobs of this event not yet finished by a worker' }),
  },
  { description: 'Live sale status of an event' },
);
