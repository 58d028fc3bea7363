import { AppError, notFound } from '@ticketing/shared';
import {
  IdParams,
  adminErrors,
  bodyErrors,
  commonErrors,
  errorResponse,
  invalidRequest,
} from '../http/common.schemas.js';
import { requireAdmin } from '../http/admin-auth.js';
import type { App, AppDeps } from '../app-types.js';
import { countWaitlist, findEvent, insertEvent, listEvents } from './events.repository.js';
import {
  CreateEventBody,
  EventPage,
  EventStatus,
  EventView,
  ListEventsQuery,
  type CreateEventInput,
} from './events.schemas.js';
import { availableTickets, toEventView } from './event-view.js';

/** Creates an event (shared with `POST /initialize`). */
export async function createEvent(deps: AppDeps, input: CreateEventInput): Promise<EventView> {
  const row = await insertEvent(deps.db, {
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
  const [waitlistCount, queueDepth] = await Promise.all([
    countWaitlist(deps.db, eventId),
    deps.queues.depth(eventId),
  ]);
  return {
    eventId,
    totalTickets: event.totalTickets,
    availableTickets: availableTickets(event),
    soldTickets: event.soldTickets,
    heldTickets: event.heldTickets,
    waitlistCount,
    queueDepth,
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
        response: { 201: EventView, ...adminErrors, ...bodyErrors, ...commonErrors },
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
      const limit = request.query.limit ?? 20;
      const cursor = request.query.cursor;
      if (cursor !== undefined && (await findEvent(deps.db, cursor)) === undefined) {
        throw new AppError(400, 'invalid_cursor', 'The cursor does not point at a known event');
      }
      const rows = await listEvents(deps.db, {
        limit: limit + 1,
        ...(cursor !== undefined ? { afterId: cursor } : {}),
      });
      const items = rows.slice(0, limit).map(toEventView);
      const nextCursor = rows.length > limit ? (items.at(-1)?.id ?? null) : null;
      return { items, nextCursor };
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
}
