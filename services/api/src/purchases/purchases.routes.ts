import {
  CANCELLATION_REFUSAL_CODES,
  CONFIRM_REFUSAL_CODES,
  SALE_REFUSAL_CODES,
  isDecided,
  notFound,
  toPurchaseView,
} from '@ticketing/shared';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import {
  IdParams,
  bodyErrors,
  buyerErrors,
  buyerRoute,
  commonErrors,
  conflictResponse,
  errorResponse,
  invalidRequest,
  refusedResponse,
} from '../http/common.schemas.js';
import { OPTIONAL_BODY } from '../docs/openapi.js';
import { preferredWaitSeconds } from '../http/prefer.js';
import { perUserPurchaseLimit } from '../http/security.js';
import type { App, AppDeps } from '../app-types.js';
import { awaitPurchase, isSettled } from './await-purchase.js';
import { confirmHold } from './confirm-hold.js';
import { ownPurchaseOnly } from './own-purchase.js';
import { positionOf } from './queue-position.js';
import { requestCancellation } from './request-cancellation.js';
import {
  ConfirmHoldBody,
  GetPurchaseQuery,
  MAX_WAIT_MS,
  PurchaseView,
  SubmitPurchaseBody,
  SubmitPurchaseHeaders,
} from './purchases.schemas.js';
import { submitPurchase, toPurchaseRequest } from './submit-purchase.js';

const purchaseLocation = (purchaseId: string): string => `/purchases/${purchaseId}`;

/** The body is optional (its schema says so, `OPTIONAL_BODY`): a request without one is validated as `{}`. */
const bodyOptional = async (request: FastifyRequest): Promise<void> => {
  request.body ??= {};
};

export function registerPurchaseRoutes(app: App, deps: AppDeps): void {
  const authenticate = deps.buyers.authenticate;
  const ownPurchase = ownPurchaseOnly(deps);

  app.post(
    '/events/:id/purchases',
    {
      onRequest: authenticate,
      preHandler: perUserPurchaseLimit(app, deps.config, deps.redis),
      schema: {
        ...buyerRoute,
        tags: ['purchases'],
        summary: "Submit a purchase: it joins the event's queue and is decided in order",
        description:
          'Answers 202 once the purchase is stored durably. Poll `Location` (with `?waitMs=`) for the outcome. ' +
          'With `Prefer: wait=N`, answers 200 with the decided purchase as soon as it is decided, and 202 only ' +
          'if N seconds pass first (`Preference-Applied: wait=N` says it waited). ' +
          'Repeating a request with the same `Idempotency-Key` returns the same purchase. ' +
          "Before an event's sale start the purchase is `prequeued` (one per buyer: a second is 409 " +
          '`already_queued`) and decided in the draw at the start; before its pre-queue opens 409 ' +
          '`sale_not_open`, after its sale end 409 `sale_ended`, once the event is cancelled 409 `event_cancelled`.',
        params: IdParams,
        headers: SubmitPurchaseHeaders,
        body: SubmitPurchaseBody,
        response: {
          200: PurchaseView,
          202: PurchaseView,
          ...buyerErrors,
          404: errorResponse[404],
          409: conflictResponse(SALE_REFUSAL_CODES),
          422: refusedResponse(['quantity_over_limit', 'idempotency_key_reused']),
          ...bodyErrors,
          ...commonErrors,
          400: invalidRequest('user_id_required'),
        },
      },
    },
    async (request, reply) => {
      const purchaseRequest = toPurchaseRequest(
        request.params.id,
        deps.buyers.buyerOf(request, request.body.userId),
        request.body,
        request.headers['idempotency-key'],
      );
      const waitMs = Math.min((preferredWaitSeconds(request.headers.prefer) ?? 0) * 1000, MAX_WAIT_MS);
      const { purchase, replayed } = await submitPurchase(deps, purchaseRequest);
      // A new purchase is queued, with nothing more to show; a replayed one may have moved on since.
      let row = replayed
        ? await deps.purchases.loadView(purchase.id)
        : { ...purchase, bookingId: null, waitlistPosition: null, paymentReference: null };
      if (row === undefined) throw notFound('Purchase');
      void reply.header('location', purchaseLocation(purchase.id));
      if (waitMs > 0) {
        void reply.header('preference-applied', `wait=${waitMs / 1000}`);
        if (!isSettled(row)) row = (await awaitPurchase(deps, purchase.id, waitMs)) ?? row;
        if (isDecided(row.status)) return reply.status(200).send(toPurchaseView(row));
      }
      return reply.status(202).send(toPurchaseView(row));
    },
  );

  app.get(
    '/purchases/:id',
    {
      onRequest: authenticate,
      preHandler: ownPurchase,
      schema: {
        ...buyerRoute,
        tags: ['purchases'],
        summary: 'A purchase and its outcome; with `waitMs`, answers as soon as nothing is pending for it',
        description:
          'While the purchase is queued, or pre-queued once the draw is made, `queuePosition` says how many ' +
          'purchases of the event are ahead of it (in an on-sale, every entrant of the draw comes first, in ' +
          'drawn order) ' +
          'and `estimatedWaitMs` (once the event has a processing rate) roughly how long it will wait.',
        params: IdParams,
        querystring: GetPurchaseQuery,
        response: { 200: PurchaseView, 401: buyerErrors[401], 404: errorResponse[404], ...commonErrors },
      },
    },
    async (request) => {
      const row = await awaitPurchase(deps, request.params.id, request.query.waitMs ?? 0);
      if (row === undefined) throw notFound('Purchase');
      // Redis and an index read or two (O(log n)); without them the purchase is still answered, without a place.
      const positioned = await positionOf(deps, row).catch((err: unknown) => {
        request.log.warn({ err }, 'queue position unavailable');
        return { row, position: undefined };
      });
      return toPurchaseView(positioned.row, positioned.position);
    },
  );

  app.post(
    '/purchases/:id/cancel',
    {
      onRequest: authenticate,
      preValidation: bodyOptional,
      preHandler: ownPurchase,
      schema: {
        ...buyerRoute,
        tags: ['purchases'],
        summary: 'Cancel a purchase; applied in queue order, freed tickets go to the waiting list',
        params: IdParams,
        body: Type.Object({}, { additionalProperties: false, description: 'No body is needed' }),
        [OPTIONAL_BODY]: true,
        response: {
          202: PurchaseView,
          401: buyerErrors[401],
          404: errorResponse[404],
          409: conflictResponse(CANCELLATION_REFUSAL_CODES),
          ...bodyErrors,
          ...commonErrors,
        },
      },
    },
    async (request, reply) => {
      const purchase = await requestCancellation(deps, request.params.id);
      const row = await deps.purchases.loadView(purchase.id);
      if (row === undefined) throw notFound('Purchase');
      return reply.status(202).header('location', purchaseLocation(purchase.id)).send(toPurchaseView(row));
    },
  );

  app.post(
    '/purchases/:id/confirm',
    {
      onRequest: authenticate,
      preValidation: bodyOptional,
      preHandler: ownPurchase,
      schema: {
        ...buyerRoute,
        tags: ['purchases'],
        summary: "Confirm a held purchase once the shop's payment succeeded",
        description:
          'Turns a hold into a confirmed booking, with `paymentReference` kept on it, if it is still held and ' +
          'not past `holdExpiresAt` (by the database’s clock). Repeating it answers the same; after the hold ' +
          'expired or was cancelled it is a 409 (`hold_expired`, `purchase_cancelled`).',
        params: IdParams,
        body: ConfirmHoldBody,
        [OPTIONAL_BODY]: true,
        response: {
          200: PurchaseView,
          401: buyerErrors[401],
          404: errorResponse[404],
          409: conflictResponse(CONFIRM_REFUSAL_CODES),
          ...bodyErrors,
          ...commonErrors,
        },
      },
    },
    async (request) => {
      await confirmHold(deps, request.params.id, request.body.paymentReference);
      const row = await deps.purchases.loadView(request.params.id);
      if (row === undefined) throw notFound('Purchase');
      return toPurchaseView(row);
    },
  );
}
