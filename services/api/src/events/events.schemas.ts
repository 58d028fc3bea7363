import { Type, type Static } from 'typebox';
import { DEFAULT_MAX_PER_PURCHASE, MAX_HOLD_SECONDS, SALE_STATES, type SaleState } from '@ticketing/shared';
import { Uuid } from '../http/common.schemas.js';

export const MAX_TOTAL_TICKETS = 10_000_000;
export const MAX_PRICE_CENTS = 100_000_000;
export const MAX_PER_PURCHASE_LIMIT = 100;
/** The page size of a list of events when the query names none. */
export const DEFAULT_PAGE_SIZE = 20;

const HOLD_SECONDS =
  'Hold tickets this long for payment: a purchase that gets tickets is `held` until confirmed ' +
  '(`POST /purchases/{id}/confirm`) or expired (its tickets go to the next in line). 0: confirmed at once';

const SALES_START_AT =
  'The sale start (ISO 8601). Purchases before it are `prequeued`, and at the start they are decided ' +
  'in a random order anyone can verify (`GET /events/{id}/draw`), ahead of every later purchase. ' +
  'Without it, the event is on sale from creation';

const SaleWindowFields = {
  salesStartAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  salesEndAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  preQueueOpensAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  saleState: Type.Unsafe<SaleState>({
    type: 'string',
    enum: [...SALE_STATES],
    description:
      'By the database clock: `scheduled` (the pre-queue is not open yet), `prequeue`, `on_sale`, ' +
      '`paused` (purchases are accepted and keep their place, nothing is decided until the resume), ' +
      '`ended` (whether tickets remain is `availableTickets`), `cancelled`',
  }),
};

const EventCancellation = Type.Object(
  {
    reason: Type.String(),
    requestedAt: Type.String({ format: 'date-time' }),
    finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
      description: 'Every purchase of the event is cancelled; until then its purchases are being cancelled',
    }),
  },
  { description: 'The event is cancelled for good (`POST /events/{id}/cancel`)' },
);

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
    salesStartAt: Type.Optional(Type.String({ format: 'date-time', description: SALES_START_AT })),
    salesEndAt: Type.Optional(
      Type.String({ format: 'date-time', description: 'Purchases from then on are 409 `sale_ended`' }),
    ),
    preQueueOpensAt: Type.Optional(
      Type.String({
        format: 'date-time',
        description:
          'When the pre-queue opens (at or before `salesStartAt`; default: at creation). Before it, ' +
          'purchases are 409 `sale_not_open`',
      }),
    ),
  },
  { additionalProperties: false },
);
export type CreateEventInput = Static<typeof CreateEventBody>;

export const UpdateEventBody = Type.Object(
  {
    name: Type.Optional(CreateEventBody.properties.name),
    priceCents: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_PRICE_CENTS,
        description: 'For purchases decided after the change; bookings keep the price they were made at',
      }),
    ),
    maxPerPurchase: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_PER_PURCHASE_LIMIT,
        description: 'Checked against purchases accepted after the change',
      }),
    ),
    holdSeconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_HOLD_SECONDS,
        description: 'For holds given after the change; an event cannot switch between 0 and more',
      }),
    ),
    salesEndAt: Type.Optional(
      Type.String({ format: 'date-time', description: 'A new end, after now and after `salesStartAt`' }),
    ),
    totalTickets: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_TOTAL_TICKETS,
        description:
          'Takes its place in the queue: purchases accepted before are decided on the old total, those ' +
          'after on the new (`pendingTotalTickets` until then). Added tickets go to the waiting list first',
      }),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateEventInput = Static<typeof UpdateEventBody>;

export const CancelEventBody = Type.Object(
  {
    reason: Type.String({
      minLength: 1,
      maxLength: 500,
      pattern: '\\S',
      description: 'Why the event is cancelled; a repeat keeps the first reason',
    }),
  },
  { additionalProperties: false },
);

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
    ...SaleWindowFields,
    pausedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
      description: 'Paused since (`POST /events/{id}/pause`), until the resume',
    }),
    pendingTotalTickets: Type.Union([Type.Integer(), Type.Null()], {
      description:
        'A change of `totalTickets` not carried out yet: it takes its place in the queue, after every ' +
        'purchase accepted before it (docs/running-a-sale.md)',
    }),
    closedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
      description:
        "When the sale's close was carried out, in queue order after every purchase accepted before the " +
        'end: the waiting list closed (its purchases `rejected`, `sale_ended`). Null before',
    }),
    cancellation: Type.Union([EventCancellation, Type.Null()]),
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
    prequeueSize: Type.Integer({ description: 'Purchases in the pre-queue, waiting for the draw' }),
    ...SaleWindowFields,
  },
  { description: 'Live sale status of an event' },
);

export const EventDraw = Type.Object(
  {
    eventId: Uuid,
    commitment: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'Hex SHA-256 of the seed' }),
    salesStartAt: Type.String({ format: 'date-time' }),
    drawn: Type.Boolean({ description: 'The draw is made: the seed and the keys are shown' }),
    seed: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$', description: 'The 32-byte seed, hex' })),
    entrants: Type.Optional(Type.Integer({ description: 'Purchases in the pre-queue at the start' })),
    keys: Type.Optional(
      Type.Array(Type.String(), {
        description:
          "Every entrant's draw key, HMAC-SHA256(seed, purchase id as lower-case text) in hex, in drawn " +
          'order (ascending): the order in which they were decided',
      }),
    ),
  },
  {
    $id: 'Draw',
    description:
      'The on-sale draw, commit-reveal: the commitment from creation, the seed and the keys once drawn',
  },
);
export type EventDraw = Static<typeof EventDraw>;
