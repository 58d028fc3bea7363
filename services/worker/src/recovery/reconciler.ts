import { sql, type ExpressionBuilder, type Kysely } from 'kysely';
import {
  hasPendingCancellation,
  isAwaitingDecision,
  jobIdFor,
  type Database,
  type EventQueues,
  type Logger,
  type TicketingJob,
} from '@ticketing/shared';
import { reconcilerRequeued, reconcilerRuns } from '../metrics/metrics.js';

/**
 * The safety net for Redis losing jobs (a flush, a failover, a crash without persistence): Postgres
 * knows every accepted purchase, so any still undecided after a while gets its job back. One job per
 * event is enough, for the newest stale purchase: processing it decides every purchase before it.
 * Pending cancellations are re-enqueued the same way. Paused and cancelled events are left out: a
 * paused event's purchases wait in Postgres for the resume by design, and a cancelled event's are
 * cancelled by its rounds whatever their jobs (the scan of Postgres wakes those).
 */
export async function reconcile(
  deps: { db: Kysely<Database>; queues: EventQueues; log: Logger },
  olderThanMs: number,
): Promise<number> {
  const cutoff = sql<Date>`now() - ${`${olderThanMs} milliseconds`}::interval`;
  const stalePurchases = await deps.db
    .selectFrom('purchases')
    .distinctOn('eventId')
    .select(['eventId', 'id', 'seq'])
    .where(isAwaitingDecision)
    .where('createdAt', '<', cutoff)
    .where(ofRunningEvent)
    .orderBy('eventId')
    .orderBy('seq', 'desc')
    .execute();
  const staleCancellations = await deps.db
    .selectFrom('purchases')
    .select(['eventId', 'id', 'cancelSeq'])
    .where('cancelRequestedAt', '<', cutoff)
    .where(hasPendingCancellation)
    .where(ofRunningEvent)
    .limit(1000)
    .execute();

  let requeued = 0;
  for (const purchase of stalePurchases) {
    if (
      await ensureJob(deps.queues, {
        kind: 'purchase',
        eventId: purchase.eventId,
        purchaseId: purchase.id,
        seq: purchase.seq,
      })
    )
      requeued += 1;
  }
  for (const purchase of staleCancellations) {
    if (
      await ensureJob(deps.queues, {
        kind: 'cancel',
        eventId: purchase.eventId,
        purchaseId: purchase.id,
        seq: purchase.cancelSeq ?? Number.MAX_SAFE_INTEGER,
      })
    )
      requeued += 1;
  }
  reconcilerRequeued.inc(requeued);
  reconcilerRuns.inc();
  if (requeued > 0) deps.log.warn({ requeued }, 'reconciler re-enqueued lost jobs');
  return requeued;
}

/** The purchase's event is neither paused nor cancelled. */
const ofRunningEvent = ({ exists, not, selectFrom }: ExpressionBuilder<Database, 'purchases'>) =>
  not(
    exists(
      selectFrom('events')
        .select('events.id')
        .whereRef('events.id', '=', 'purchases.eventId')
        .where((eb) =>
          eb.or([eb('events.pausedAt', 'is not', null), eb('events.cancelledAt', 'is not', null)]),
        ),
    ),
  );

/** Makes sure a job for this work is waiting or running; returns whether it had to be re-created. */
async function ensureJob(queues: EventQueues, job: TicketingJob): Promise<boolean> {
  const existing = await queues.queue(job.eventId).getJob(jobIdFor(job));
  if (existing !== undefined) {
    const state = await existing.getState();
    if (state === 'failed') {
      await existing.retry('failed');
      return true;
    }
    if (state !== 'completed' && state !== 'unknown') return false;
    // Finished, yet its work is still pending: run it again.
    await existing.remove().catch(() => undefined);
  }
  await queues.enqueue(job);
  return true;
}
