import { sql, type ExpressionBuilder } from 'kysely';
import { ACTIVE_STATUSES } from '../domain/purchase.js';
import type { Database } from './database.js';

/**
 * What is pending, in one place: a purchase still `queued` awaits its decision; a cancellation
 * requested (`cancel_seq` set) of a purchase that is still active awaits being carried out; a hold past
 * its time awaits its expiry's place in the queue (the sweep gives it `expire_seq`), and then the expiry
 * awaits being carried out. The worker's round, its scan of Postgres, its sweep of holds, the
 * reconciler and the api all ask through these.
 */
type PurchasesExpression = ExpressionBuilder<Database, 'purchases'>;

export const isAwaitingDecision = (eb: PurchasesExpression) => eb('status', '=', 'queued');

export const isActive = (eb: PurchasesExpression) => eb('status', 'in', ACTIVE_STATUSES);

export const hasPendingCancellation = (eb: PurchasesExpression) =>
  eb.and([eb('cancelSeq', 'is not', null), isActive(eb)]);

/**
 * A hold past its time (by the database's clock) whose expiry has no place in the queue yet. One with
 * a cancellation on its way is left to the cancellation, which ends it too.
 */
export const isDueHold = (eb: PurchasesExpression) =>
  eb.and([
    eb('status', '=', 'held'),
    eb('expireSeq', 'is', null),
    eb('cancelSeq', 'is', null),
    eb('holdExpiresAt', '<=', sql<Date>`now()`),
  ]);

export const hasPendingExpiry = (eb: PurchasesExpression) =>
  eb.and([eb('expireSeq', 'is not', null), eb('status', '=', 'held')]);
