import type { Database, EventQueues, NewPurchaseRow, PurchaseRow, TicketingJob } from '@ticketing/shared';
import type { Kysely } from 'kysely';
import { createBatcher } from '../lib/batcher.js';
import { findPurchaseViewRows, holdQueueOrder } from './purchases.repository.js';
import type { PurchaseViewRow } from './purchase-view.js';

/**
 * The purchase hot path, coalesced: concurrent requests share one multi-row insert, one bulk enqueue
 * per event queue, and one read of purchase views, instead of a round trip each.
 */
export interface PurchaseBatching {
  /** Stores a purchase; undefined when another purchase of the event already holds its idempotency key. */
  insert(purchase: NewPurchaseRow): Promise<PurchaseRow | undefined>;
  /** Adds a job to its event's queue; resolves with the error if Redis refused it. */
  enqueue(job: TicketingJob): Promise<Error | undefined>;
  loadView(purchaseId: string): Promise<PurchaseViewRow | undefined>;
}

export function createPurchaseBatching(
  db: Kysely<Database>,
  queues: EventQueues,
  announce: (eventId: string) => Promise<unknown>,
): PurchaseBatching {
  const inserts = createBatcher<NewPurchaseRow, PurchaseRow | undefined>({
    maxBatchSize: 500,
    maxConcurrent: 4,
    run: async (purchases) => {
      const inserted = await db.transaction().execute(async (tx) => {
        await holdQueueOrder(
          tx,
          purchases.map((purchase) => purchase.eventId),
        );
        return tx
          .insertInto('purchases')
          .values(purchases)
          .onConflict((conflict) =>
            conflict
              .columns(['eventId', 'idempotencyKey'])
              .where('idempotencyKey', 'is not', null)
              .doNothing(),
          )
          .returningAll()
          .execute();
      });
      const byId = new Map(inserted.map((row) => [row.id, row]));
      return purchases.map((purchase) => byId.get(purchase.id));
    },
  });

  const enqueues = createBatcher<TicketingJob, Error | undefined>({
    maxBatchSize: 1000,
    maxConcurrent: 2,
    run: async (jobs) => {
      const byEvent = new Map<string, TicketingJob[]>();
      for (const job of jobs) byEvent.set(job.eventId, [...(byEvent.get(job.eventId) ?? []), job]);
      const failures = new Map<string, Error>();
      await Promise.all(
        [...byEvent].map(([eventId, eventJobs]) =>
          queues.enqueueBulk(eventJobs).then(
            // Wakes an idle worker at once; a lost announcement only waits for the workers' next scan.
            () => announce(eventId).catch(() => undefined),
            (error: unknown) => {
              failures.set(eventId, error instanceof Error ? error : new Error(String(error)));
            },
          ),
        ),
      );
      return jobs.map((job) => failures.get(job.eventId));
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

  return {
    insert: (purchase) => inserts.submit(purchase),
    enqueue: (job) => enqueues.submit(job),
    loadView: (purchaseId) => views.submit(purchaseId),
  };
}
