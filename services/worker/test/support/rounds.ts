import { parseJob, type Database, type PurchaseUpdate } from '@ticketing/shared';
import { insertAcceptedPurchase, newPurchaseRow } from '@ticketing/shared/testing';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type Kysely } from 'kysely';
import { applyRound } from '../../src/decide/round.js';

/**
 * Applies every pending request of one event up to `upToSeq`, a round at a time: what the drainer
 * does for an event, without its queues, leases and announcements.
 */
export async function drainEvent(
  db: Kysely<Database>,
  eventId: string,
  upToSeq: number,
  batchSize: number,
): Promise<PurchaseUpdate[]> {
  const updates: PurchaseUpdate[] = [];
  for (;;) {
    const round = await applyRound(db, [{ eventId, upToSeq }], batchSize);
    updates.push(...round.updates);
    if (!round.unfinished.has(eventId)) return updates;
  }
}

/** Applies one job's payload as the drainer would, for tests that run a job by hand (twice, or at once). */
export async function processJob(
  db: Kysely<Database>,
  data: unknown,
  batchSize = 500,
): Promise<PurchaseUpdate[]> {
  const job = parseJob(data);
  if (job === undefined) throw new Error(`not a job: ${JSON.stringify(data)}`);
  return drainEvent(db, job.eventId, job.seq, batchSize);
}

/** Waits until every hold of the event is past its time by the database's clock. */
export async function untilHoldsPastTime(db: Kysely<Database>, eventId: string): Promise<void> {
  for (;;) {
    const { rows } = await sql<{ due: boolean }>`
      select coalesce(bool_and(hold_expires_at <= now()), true) as due
      from purchases where event_id = ${eventId} and status = 'held'`.execute(db);
    if (rows[0]?.due === true) return;
    await sleep(50);
  }
}

/** What a test buyer asks for: one ticket, joining the waiting list, unless said otherwise. */
export interface PurchaseRequest {
  readonly quantity?: number;
  readonly joinWaitlist?: boolean;
}

/** Stores a purchase as the api accepts it. */
export async function acceptPurchase(
  db: Kysely<Database>,
  eventId: string,
  userId: string,
  options: PurchaseRequest = {},
) {
  return insertAcceptedPurchase(db, {
    ...newPurchaseRow(eventId, userId, options.quantity ?? 1),
    joinWaitlist: options.joinWaitlist ?? true,
  });
}
