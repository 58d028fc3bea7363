import {
  insertPurchases,
  outcomeId,
  storedPurchaseRow,
  type AcceptedPurchase,
  type WindowRefusal,
  type Database,
  type EventQueues,
  type OutboxRecorder,
  type TicketingJob,
  type PurchaseViewRow,
  type PurchaseRow,
} from '@ticketing/shared';
import type { Kysely } from 'kysely';
import { createBatcher } from '../lib/batcher.js';
import { confirmHeldPurchases, type HoldPayment } from './hold-confirmation.repository.js';
import { findPurchaseViewRows } from './purchases.repository.js';

/**
 * The purchase hot path, coalesced: concurrent requests share one multi-row insert, one pipelined
 * write of their jobs (whatever their events) with one wake-up announcement, one read of purchase
 * views, and one statement confirming holds, instead of a round trip each.
 */
export interface PurchaseBatching {
  /**
   * Stores a purchase. Undefined when another purchase of the event already holds its idempotency key
   * or its buyer's pre-queue entry; a refusal when the sale window is closed.
   */
  insert(purchase: AcceptedPurchase): Promise<PurchaseRow | WindowRefusal | undefined>;
  /** Adds a job to its event's queue; resolves with the error if Redis refused it. */
  enqueue(job: TicketingJob): Promise<Error | undefined>;
  loadView(purchaseId: string): Promise<PurchaseViewRow | undefined>;
  /** Confirms a hold with its payment; false when it was not confirmed now (see confirmHeldPurchases). */
  confirm(payment: HoldPayment): Promise<boolean>;
}

export function createPurchaseBatching(
  db: Kysely<Database>,
  queues: EventQueues,
  announce: (eventIds: string[]) => Promise<unknown>,
  /** Where a confirmation records its webhook messages, in its own transaction. */
  outbox: OutboxRecorder,
): PurchaseBatching {
  const inserts = createBatcher<AcceptedPurchase, PurchaseRow | WindowRefusal | undefined>({
    maxBatchSize: 500,
    maxConcurrent: 4,
    run: async (purchases) => {
      const inserted = await db.transaction().execute((tx) => insertPurchases(tx, purchases, outbox));
      const outcomes = new Map(inserted.map((outcome) => [outcomeId(outcome), outcome]));
      return purchases.map((purchase) => {
        const outcome = outcomes.get(purchase.id);
        if (outcome === undefined) return undefined;
        return outcome.kind === 'refused' ? outcome.refusal : storedPurchaseRow(purchase, outcome.row);
      });
    },
  });

  const enqueues = createBatcher<TicketingJob, Error | undefined>({
    maxBatchSize: 1000,
    maxConcurrent: 2,
    run: async (jobs) => {
      const results = await Promise.all(
        jobs.map((job) =>
          queues.enqueue(job).then(
            () => undefined,
            (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
          ),
        ),
      );
      // Wakes idle workers at once; a lost announcement only waits for the workers' next scan.
      const enqueued = new Set(
        jobs.filter((_job, index) => results[index] === undefined).map((job) => job.eventId),
      );
      if (enqueued.size > 0) await announce([...enqueued]).catch(() => undefined);
      return results;
    },
  });

  const views = createBatcher<string, PurchaseViewRow | undefined>({
    maxBatchSize: 500,
    maxConcurrent: 4,
    run: async (ids) => {
      const rows = await findPurchaseViewRows(db, [...new Set(ids)]);
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.map((id) => byId.get(id));
    },
  });

  const confirmations = createBatcher<HoldPayment, boolean>({
    maxBatchSize: 500,
    maxConcurrent: 2,
    run: async (payments) => {
      // One transaction for the batch: each commit is a flush of the log the others would wait for.
      const confirmed = await db.transaction().execute((tx) => confirmHeldPurchases(tx, payments, outbox));
      // A purchase named twice in the batch is confirmed by its first payment only.
      const first = new Map(payments.map((payment, index) => [payment.purchaseId, index] as const).reverse());
      return payments.map(
        (payment, index) => confirmed.has(payment.purchaseId) && first.get(payment.purchaseId) === index,
      );
    },
  });

  return {
    insert: (purchase) => inserts.submit(purchase),
    confirm: (payment) => confirmations.submit(payment),
    enqueue: (job) => enqueues.submit(job),
    loadView: (purchaseId) => views.submit(purchaseId),
  };
}
