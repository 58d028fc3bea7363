import { checkConfirmable, conflict, notFound, type Database } from '@ticketing/shared';
import type { Kysely } from 'kysely';
import { findUnconfirmedHold } from './hold-confirmation.repository.js';
import type { PurchaseBatching } from './purchase-batching.js';

export interface ConfirmHoldDeps {
  readonly db: Kysely<Database>;
  readonly purchases: PurchaseBatching;
}

/** A refused confirmation is tried again when the purchase became held meanwhile (a promotion). */
const ATTEMPTS = 3;

/**
 * The shop's payment succeeded: turn the hold into a confirmed booking. Postgres decides (see
 * confirmHeldPurchases); when it did not confirm, the purchase as it stands says why: confirmed
 * already is the same answer again, anything else is a 409 with the domain's code.
 */
export async function confirmHold(
  deps: ConfirmHoldDeps,
  purchaseId: string,
  paymentReference: string | undefined,
): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    if (await deps.purchases.confirm({ purchaseId, paymentReference: paymentReference ?? null })) return;
    const current = await findUnconfirmedHold(deps.db, purchaseId);
    if (current === undefined) throw notFound('Purchase');
    const check = checkConfirmable(current, paymentReference);
    if (check.kind === 'refused') throw conflict(check.refusal.code, check.refusal.message);
    if (check.kind === 'already_confirmed') return;
    // Confirmable now, refused a moment ago: it was waitlisted and has just been promoted.
    if (attempt === ATTEMPTS) throw new Error(`Hold ${purchaseId} stays confirmable but is not confirmed`);
  }
}
