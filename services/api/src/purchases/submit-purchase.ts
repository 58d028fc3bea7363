import { randomUUID } from 'node:crypto';
import {
  AppError,
  conflict,
  drawKey,
  notFound,
  unavailable,
  type Database,
  type PurchaseRow,
  type RedisClient,
  unsafeSwitches,
} from '@ticketing/shared';
import type { Kysely } from 'kysely';
import type { EventCache } from '../events/event-cache.js';
import type { AcceptedViewCache } from './accepted-view-cache.js';
import type { PurchaseBatching } from './purchase-batching.js';
import {
  deleteQueuedPurchase,
  findPrequeuedPurchaseOfUser,
  findPurchaseByIdempotencyKey,
} from './purchases.repository.js';
import type { SubmitPurchaseInput } from './purchases.schemas.js';

export interface SubmitPurchaseDeps {
  readonly db: Kysely<Database>;
  /** The connection the queues use: a purchase is only accepted while it is up. */
  readonly redis: Pick<RedisClient, 'status'>;
  readonly events: EventCache;
  readonly purchases: PurchaseBatching;
  readonly acceptedViews: AcceptedViewCache;
}

export interface PurchaseRequest {
  readonly eventId: string;
  readonly userId: string;
  readonly quantity: number;
  readonly joinWaitlist: boolean;
  readonly idempotencyKey: string | undefined;
}

export function toPurchaseRequest(
  eventId: string,
  userId: string,
  body: Omit<SubmitPurchaseInput, 'userId'>,
  idempotencyKey: string | undefined,
): PurchaseRequest {
  return {
    eventId,
    userId,
    quantity: body.quantity ?? 1,
    joinWaitlist: body.joinWaitlist ?? true,
    idempotencyKey,
  };
}

const sameRequest = (row: PurchaseRow, request: PurchaseRequest): boolean =>
  row.userId === request.userId &&
  row.quantity === request.quantity &&
  row.joinWaitlist === request.joinWaitlist;

/**
 * Accepts a purchase: check it against the event, write it durably to Postgres, then enqueue it in the
 * event's queue. Only a purchase that is in Postgres is ever answered with 202, so none is lost. A
 * retry with the same Idempotency-Key gets the original purchase back.
 */
export async function submitPurchase(
  deps: SubmitPurchaseDeps,
  request: PurchaseRequest,
): Promise<{ purchase: PurchaseRow; replayed: boolean }> {
  const event = await deps.events.get(request.eventId);
  if (event === undefined) throw notFound('Event');
  if (request.quantity > event.maxPerPurchase) {
    throw new AppError(
      422,
      'quantity_over_limit',
      `At most ${event.maxPerPurchase} tickets per purchase for this event`,
    );
  }

  // Without Redis the purchase could be stored but not queued: refuse it at once instead of writing a
  // row only to withdraw it when the enqueue times out.
  if (deps.redis.status !== 'ready') throw unavailable();

  const id = randomUUID();
  const purchase = await deps.purchases.insert({
    id,
    eventId: request.eventId,
    userId: request.userId,
    quantity: request.quantity,
    joinWaitlist: request.joinWaitlist,
    idempotencyKey: request.idempotencyKey ?? null,
    // Kept only if Postgres pre-queues the purchase; the seed never leaves the server before the draw.
    drawKey: event.drawSeed === null ? null : drawKey(event.drawSeed, id),
  });
  if (purchase === 'sale_not_open') {
    throw conflict(
      'sale_not_open',
      `The sale has not opened yet: the pre-queue opens at ${(event.preQueueOpensAt ?? event.salesStartAt)?.toISOString()}`,
    );
  }
  if (purchase === 'sale_ended') throw conflict('sale_ended', 'The sale has ended');
  if (purchase === 'event_cancelled') throw conflict('event_cancelled', 'This event is cancelled');
  if (purchase === undefined) return { purchase: await replay(deps, request), replayed: true };
  // Remembered before its job exists, so its update cannot be announced before this.
  deps.acceptedViews.remember({
    ...purchase,
    bookingId: null,
    waitlistPosition: null,
    paymentReference: null,
  });
  // A pre-queued purchase waits for the draw, which the workers' scan of Postgres starts at the sale's
  // start: a job would only wake a worker that may decide nothing yet. (The negative control
  // `decide-before-start` gives them jobs anyway.)
  if (purchase.status === 'prequeued' && !unsafeSwitches['decide-before-start'])
    return { purchase, replayed: false };

  const enqueueError = await deps.purchases.enqueue({
    kind: 'purchase',
    eventId: purchase.eventId,
    purchaseId: purchase.id,
    seq: purchase.seq,
  });
  if (enqueueError !== undefined) {
    // Redis is away. Withdraw the acceptance so the client's retry starts clean; if the withdrawal fails
    // too, the row stays queued and the reconciler enqueues it once Redis is back, so 202 stays true.
    const withdrawn = await deleteQueuedPurchase(deps.db, purchase.id).catch(() => false);
    if (withdrawn) {
      deps.acceptedViews.forget(purchase.id);
      throw Object.assign(unavailable(), { cause: enqueueError });
    }
  }
  return { purchase, replayed: false };
}

/**
 * The same key and request gets the original purchase; the same key for another request is refused.
 * Without a known key, the buyer was already in the event's pre-queue: one entry each.
 */
async function replay(deps: SubmitPurchaseDeps, request: PurchaseRequest): Promise<PurchaseRow> {
  const existing =
    request.idempotencyKey === undefined
      ? undefined
      : await findPurchaseByIdempotencyKey(deps.db, request.eventId, request.idempotencyKey);
  if (existing === undefined) {
    const entry = await findPrequeuedPurchaseOfUser(deps.db, request.eventId, request.userId);
    if (entry !== undefined) {
      throw conflict('already_queued', `This buyer is already in the pre-queue with purchase ${entry.id}`);
    }
    // The entry left the pre-queue (cancelled, or drawn at the start) between the two statements.
    throw conflict('already_queued', 'This buyer was already in the pre-queue');
  }
  if (!sameRequest(existing, request)) {
    throw new AppError(
      422,
      'idempotency_key_reused',
      'This Idempotency-Key was already used for a different purchase request',
    );
  }
  return existing;
}
