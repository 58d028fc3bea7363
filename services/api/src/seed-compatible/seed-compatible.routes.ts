import { Type } from 'typebox';
import {
  CANCELLATION_REFUSAL_CODES,
  isDecided,
  notFound,
  SALE_REFUSAL_CODES,
  toPurchaseView,
} from '@ticketing/shared';
import {
  Uuid,
  adminErrors,
  bodyErrors,
  buyerErrors,
  buyerRoute,
  commonErrors,
  conflictResponse,
  errorResponse,
  invalidRequest,
} from '../http/common.schemas.js';
import { requireAdmin } from '../http/admin-auth.js';
import { perUserPurchaseLimit } from '../http/security.js';
import type { App, AppDeps } from '../app-types.js';
import { createEvent, loadEventStatus } from '../events/events.routes.js';
import { EventStatus, EventView, MAX_PRICE_CENTS, MAX_TOTAL_TICKETS } from '../events/events.schemas.js';
import { awaitPurchase } from '../purchases/await-purchase.js';
import { requestCancellation } from '../purchases/request-cancellation.js';
import { findActivePurchaseOfUser } from '../purchases/purchases.repository.js';
import { BuyerUserId, MAX_WAIT_MS, PurchaseView } from '../purchases/purchases.schemas.js';
import { submitPurchase, toPurchaseRequest } from '../purchases/submit-purchase.js';

const InitializeBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }),
    totalTickets: Type.Integer({ minimum: 1, maximum: MAX_TOTAL_TICKETS }),
    priceCents: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_PRICE_CENTS, default: 0 })),
  },
  { additionalProperties: false },
);

const UserEventBody = Type.Object({ userId: BuyerUserId, eventId: Uuid }, { additionalProperties: false });
const EventIdParams = Type.Object({ eventId: Uuid }, { additionalProperties: false });

/**
 * The original system's routes, kept for its clients. They ride on the queued flow and wait for its
 * outcome, so they answer with a decision like the original did, without its overselling.
 */
export function registerSeedCompatibleRoutes(app: App, deps: AppDeps): void {
  const authenticate = deps.buyers.authenticate;
  app.post(
    '/initialize',
    {
      onRequest: requireAdmin(deps.config.adminToken),
      schema: {
        security: [{ adminToken: [] }],
        tags: ['seed-compatible'],
        summary: 'Create an event (original API)',
        body: InitializeBody,
        response: { 201: EventView, ...adminErrors, ...bodyErrors, ...commonErrors },
      },
    },
    async (request, reply) =>
      reply.status(201).send(
        await createEvent(deps, {
          name: request.body.name,
          totalTickets: request.body.totalTickets,
          priceCents: request.body.priceCents ?? 0,
        }),
      ),
  );

  app.post(
    '/book',
    {
      onRequest: authenticate,
      preHandler: perUserPurchaseLimit(app, deps.config, deps.redis),
      schema: {
        ...buyerRoute,
        tags: ['seed-compatible'],
        summary:
          'Book one ticket and wait for the outcome: confirmed or waiting-list position (original API)',
        description:
          'Answers 200 with the decided purchase, or 202 if it is still queued (or pre-queued) after 30 s; ' +
          "409 outside the event's sale window, or for a buyer's second pre-queue entry.",
        body: UserEventBody,
        response: {
          200: PurchaseView,
          202: PurchaseView,
          ...buyerErrors,
          404: errorResponse[404],
          409: conflictResponse(SALE_REFUSAL_CODES),
          ...bodyErrors,
          ...commonErrors,
          400: invalidRequest('user_id_required'),
        },
      },
    },
    async (request, reply) => {
      const buyer = deps.buyers.buyerOf(request, request.body.userId);
      const { purchase } = await submitPurchase(
        deps,
        toPurchaseRequest(request.body.eventId, buyer, {}, undefined),
      );
      const row = await awaitPurchase(deps, purchase.id, MAX_WAIT_MS);
      if (row === undefined) throw notFound('Purchase');
      return reply.status(isDecided(row.status) ? 200 : 202).send(toPurchaseView(row));
    },
  );

  app.post(
    '/cancel',
    {
      onRequest: authenticate,
      schema: {
        ...buyerRoute,
        tags: ['seed-compatible'],
        summary:
          "Cancel the user's booking or waiting-list place for an event and wait for it (original API)",
        body: UserEventBody,
        response: {
          200: PurchaseView,
          202: PurchaseView,
          ...buyerErrors,
          404: errorResponse[404],
          409: conflictResponse(CANCELLATION_REFUSAL_CODES),
          ...bodyErrors,
          ...commonErrors,
          400: invalidRequest('user_id_required'),
        },
      },
    },
    async (request, reply) => {
      // A buyer can only ever name themselves: with tokens on, the token decides whose booking this is.
      const active = await findActivePurchaseOfUser(
        deps.db,
        request.body.eventId,
        deps.buyers.buyerOf(request, request.body.userId),
      );
      if (active === undefined) throw notFound('Active purchase for this user and event');
      await requestCancellation(deps, active.id);
      const row = await awaitPurchase(
        deps,
        active.id,
        MAX_WAIT_MS,
        (current) => current.status === 'cancelled',
      );
      if (row === undefined) throw notFound('Purchase');
      return reply.status(row.status === 'cancelled' ? 200 : 202).send(toPurchaseView(row));
    },
  );

  app.get(
    '/status/:eventId',
    {
      schema: {
        tags: ['seed-compatible'],
        summary: 'Available tickets and waiting-list count (original API)',
        params: EventIdParams,
        response: { 200: EventStatus, 404: errorResponse[404], ...commonErrors },
      },
    },
    async (request) => loadEventStatus(deps, request.params.eventId),
  );
}
