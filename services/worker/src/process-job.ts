import { UnrecoverableError } from 'bullmq';
import { parseJob, type Database } from '@ticketing/shared';
import type { Kysely } from 'kysely';
import { cancelPurchase } from './cancel-purchase.js';
import { settlePurchases } from './settle-purchases.js';

/**
 * Runs one job of an event queue and returns the purchases whose state changed. Jobs are at-least-once:
 * a job that runs twice finds its purchase decided already and changes nothing.
 */
export async function processJob(db: Kysely<Database>, data: unknown): Promise<string[]> {
  const job = parseJob(data);
  if (job === undefined) throw new UnrecoverableError('Malformed job payload');

  if (job.kind === 'cancel') return cancelPurchase(db, job.eventId, job.purchaseId);

  const purchase = await db
    .selectFrom('purchases')
    .select(['seq', 'status', 'eventId'])
    .where('id', '=', job.purchaseId)
    .executeTakeFirst();
  // Gone (its acceptance was withdrawn) or already decided (by an earlier run, or by catching up).
  if (purchase === undefined || purchase.eventId !== job.eventId || purchase.status !== 'queued') return [];
  return settlePurchases(db, job.eventId, purchase.seq);
}
