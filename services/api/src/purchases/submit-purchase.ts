import { randomUUID } from 'node:crypto';
import {
  AppError,
  isPgError,
  notFound,
  unavailable,
  type Database,
  type EventQueues,
  type PurchaseRow,
} from '@ticketing/shared';
import type { Kysely } from 'kysely';
import { findEvent } from '../events/events.repository.js';
import {
  deleteQueuedPurchase,
  findPurchaseByIdempotencyKey,
  insertPurchase,
} from './purchases.repository.js';
import type { SubmitPurchaseInput } from './purchases.schemas.js';

export interface SubmitPurchaseDeps {
  readonly db: Kysely<Database>;
  readonly queues: EventQueues;
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
  body: SubmitPurchaseInput,
  idempotencyKey: string | undefined,
): PurchaseRequest {
  return {
    eventId,
    userId: String(body.userId),
    quantity: body.quantity ?? 1,
    joinWaitlist: body.joinWaitlist ?? true,
    idempotencyKey,
  };
}

const sameRequest = (row: PurchaseRow, request: PurchaseRequest): boolean =>
  row.userId === request.userId &&
  row.quantity === request.quantity &&
  row.joinWaitlist === request.joinWaitlist;

/** A retry with the same key gets the original purchase; the same key for another request is refused. */
function replay(existing: PurchaseRow, request: PurchaseRequest): PurchaseRow {
  if (!sameRequest(existing, request)) {
    throw new AppError(
      422,
      'idempotency_key_reused',
      'This Idempotency-Key was already used for a different purchase request',
    );
  }
  return existing;
}

/**
 * Accepts a purchase: validate against the event, write it durably to Postgres, then enqueue it in the
 * event's queue. Only a purchase that is in Postgres is ever answered with 202, so none is ever lost.
 */
export async function submitPurchase(
  deps: SubmitPurchaseDeps,
  request: PurchaseRequest,
): Promise<{ purchase: PurchaseRow; replayed: boolean }> {
  const event = await findEvent(deps.db, request.eventId);
  if (event === undefined) throw notFound('Event');
  if (request.quantity > event.maxPerPurchase) {
    throw new AppError(
      422,
      'quantity_over_limit',
      `At most ${event.maxPerPurchase} tickets per purchase for this event`,
    );
  }
  if (request.idempotencyKey !== undefined) {
    const existing = await findPurchaseByIdempotencyKey(deps.db, request.eventId, request.idempotencyKey);
    if (existing !== undefined) return { purchase: replay(existing, request), replayed: true };
  }

  let purchase: PurchaseRow;
  try {
    purchase = await insertPurchase(deps.db, {
      id: randomUUID(),
      eventId: request.eventId,
      userId: request.userId,
      quantity: request.quantity,
      joinWaitlist: request.joinWaitlist,
      idempotencyKey: request.idempotencyKey ?? null,
      reason: null,
      cancelRequestedAt: null,
      cancelSeq: null,
      processedAt: null,
    });
  } catch (error) {
    // Two retries with one key raced; the loser answers with the winner's purchase.
    if (request.idempotencyKey !== undefined && isPgError(error, '23505')) {
      const winner = await findPurchaseByIdempotencyKey(deps.db, request.eventId, request.idempotencyKey);
      if (winner !== undefined) return { purchase: replay(winner, request), replayed: true };
    }
    throw error;
  }

  try {
    await deps.queues.enqueue({ kind: 'purchase', eventId: purchase.eventId, purchaseId: purchase.id });
  } catch (error) {
    // Redis is away. Withdraw the acceptance so the client's retry starts clean; if the withdrawal fails
    // too, the row stays queued and the reconciler enqueues it once Redis is back, so 202 stays true.
    const withdrawn = await deleteQueuedPurchase(deps.db, purchase.id).catch(() => false);
    if (withdrawn) throw Object.assign(unavailable(), { cause: error });
  }
  return { purchase, replayed: false };
}
