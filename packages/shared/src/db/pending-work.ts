import { sql, type ExpressionBuilder, type RawBuilder } from 'kysely';
import { ACTIVE_STATUSES } from '../domain/purchase.js';
import type { Database } from './database.js';

/**
 * What is pending, in one place: a purchase still `queued` awaits its decision, and a cancellation
 * requested (`cancel_seq` set) of a purchase that is still active awaits being carried out. The
 * worker's round, its scan of Postgres, the reconciler and the api all ask through these.
 */
type PurchasesExpression = ExpressionBuilder<Database, 'purchases'>;

export const isAwaitingDecision = (eb: PurchasesExpression) => eb('status', '=', 'queued');

export const isActive = (eb: PurchasesExpression) => eb('status', 'in', ACTIVE_STATUSES);

export const hasPendingCancellation = (eb: PurchasesExpression) =>
  eb.and([eb('cancelSeq', 'is not', null), isActive(eb)]);

/** `ACTIVE_STATUSES` as a Postgres text array, for raw SQL (`status = any(...)`). */
export const activeStatusesArray = (): RawBuilder<string[]> => sql`${ACTIVE_STATUSES}::text[]`;
