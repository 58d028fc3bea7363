import {
  AppError,
  checkSaleWindow,
  drawCommitment,
  newDrawSeed,
  notFound,
  type SaleWindow,
} from '@ticketing/shared';
import {
  IdParams,
  adminErrors,
  bodyErrors,
  commonErrors,
  errorMeaning,
  errorResponse,
  invalidRequest,
  refusedResponse,
} from '../http/common.schemas.js';
import { requireAdmin } from '../http/admin-auth.js';
import type { App, AppDeps } from '../app-types.js';
import { pageOfEvents } from './event-page.js';
import { countPrequeued, countWaitlist, findEvent, insertEvent } from './events.repository.js';
import {
  CreateEventBody,
  EventDraw,
  EventPage,
  EventStatus,
  EventView,
  ListEventsQuery,
  type CreateEventInput,
} from './events.schemas.js';
import { availableTickets, toEventView, toSaleWindowView } from './event-view.js';

/** The sale window of a request, checked for consistency; a bad one is a 422 naming the field. */
function saleWindowOf(input: CreateEventInput): SaleWindow {
  const window: SaleWindow = {
    salesStartAt: input.salesStartAt === undefined ? null : new Date(input.salesStartAt),
    salesEndAt: input.salesEndAt === undefined ? null : new Date(input.salesEndAt),
    preQueueOpensAt: input.preQueueOpensAt === undefined ? null : new Date(input.preQueueOpensAt),
  };
  for (const [field, date] of Object.entries(window))
    if (date !== null && Number.isNaN(date.getTime()))
      throw new AppError(422, 'invalid_sale_window', `${field} is not a valid ISO 8601 date-time`);
  const problem = checkSaleWindow(window);
  if (problem !== null) throw new AppError(422, 'invalid_sale_window', problem.message);
  return window;
}

/**
 * Creates an event (shared with `POST /initialize`). One with a sale start gets its draw's secret seed
 * and commitment now: the commitment is public from creation, so it is fixed before anyone can enter.
 */
export async function createEvent(deps: AppDeps, input: CreateEventInput): Promise<EventView> {
  const window = saleWindowOf(input);
  const seed = window.salesStartAt === null ? null : newDrawSeed();
  const row = await insertEvent(deps.db, {
    ...window,
    drawSeed: seed,
    drawCommitment: seed === null ? null : drawCommitment(seed),
    name: input.name,
    totalTickets: input.totalTickets,
    priceCents: input.priceCents,
    currency: input.currency ?? 'USD',
    maxPerPurchase: input.maxPerPurchase ?? 10,
    holdSeconds: input.holdSeconds ?? 0,
  });
  deps.events.remember(row);
  return toEventView(row);
}

export async function loadEventStatus(deps: AppDeps, eventId: string) {
  const event = await findEvent(deps.db, eventId);
  if (event === undefined) throw notFound('Event');
  const [waitlistCount, queueDepth, prequeued] = await Promise.all([
    countWaitlist(deps.db, eventId),
    deps.queues.depth(eventId),
    event.salesStartAt === null || event.drawFinishedAt !== null
      ? new Map<string, number>()
      : countPrequeued(deps.db, [eventId]),
  ]);
  return {
    eventId,
    totalTickets: event.totalTickets,
    availableTickets: availableTickets(event),
    soldTickets: event.soldTickets,
    heldTickets: event.heldTickets,
    waitlistCount,
    queueDepth,
    prequeueSize: prequeued.get(eventId) ?? 0,
    ...toSaleWindowView(event),
  };
}

export function registerEventRoutes(app: App, deps: AppDeps): void {
  app.post(
    '/events',
    {
      onRequest: requireAdmin(deps.config.adminToken),
      schema: {
        security: [{ adminToken: [] }],
        tags: ['events'],
        summary: 'Create an event with a fixed ticket inventory',
        body: CreateEventBody,
        response: {
          201: EventView,
          422: refusedResponse(['invalid_sale_window']),
          ...adminErrors,
          ...bodyErrors,
          ...commonErrors,
        },
      },
    },
    async (request, reply) => reply.status(201).send(await createEvent(deps, request.body)),
  );

  app.get(
    '/events',
    {
      schema: {
        tags: ['events'],
        summary: 'List events in creation order',
        querystring: ListEventsQuery,
        response: { 200: EventPage, ...commonErrors, 400: invalidRequest('invalid_cursor') },
      },
    },
    async (request) => {
      const { rows, nextCursor } = await pageOfEvents(deps.db, request.query);
      return { items: rows.map(toEventView), nextCursor };
    },
  );

  app.get(
    '/events/:id',
    {
      schema: {
        tags: ['events'],
        summary: 'One event with its live availability',
        params: IdParams,
        response: { 200: EventView, 404: errorResponse[404], ...commonErrors },
      },
    },
    async (request) => {
      const event = await findEvent(deps.db, request.params.id);
      if (event === undefined) throw notFound('Event');
      return toEventView(event);
    },
  );

  app.get(
    '/events/:id/status',
    {
      schema: {
        tags: ['events'],
        summary: 'Live sale status: availability, waiting list and queue depth',
        params: IdParams,
        response: { 200: EventStatus, 404: errorResponse[404], ...commonErrors },
      },
    },
    async (request) => loadEventStatus(deps, request.params.id),
  );

  app.get(
    '/events/:id/draw',
    {
      schema: {
        tags: ['events'],
        summary: "The on-sale draw: its commitment, and once drawn the seed and every entrant's key",
        description:
          'Public. From creation: `commitment`, hex SHA-256 of a secret 32-byte seed. Once the sale started and ' +
          "the draw was made: `seed`, `entrants` and `keys`, every pre-queued purchase's key " +
          '(hex HMAC-SHA256 of the seed and the purchase id as lower-case text) in drawn order. A buyer checks ' +
          'SHA-256(seed) against the commitment and finds their own key (docs/on-sale.md). An event without ' +
          '`salesStartAt` has none: 404 `no_draw`.',
        params: IdParams,
        response: {
          200: EventDraw,
          404: errorMeaning(
            'No such event (`not_found`), or it has no sale start and so no draw (`no_draw`)',
          ),
          ...commonErrors,
        },
      },
    },
    async (request) => deps.draws.get(request.params.id),
  );
}
