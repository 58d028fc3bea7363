import { auditDatabase, type Books } from '@ticketing/faults/books';
import type { PurchaseRow, TestEnvironment } from '@ticketing/shared/testing';

/**
 * The fault suite's audit of the books (`@ticketing/faults/books`) on a control's
 * database: every purchase the control stored counts as accepted, as if a buyer had its 202.
 */
export async function auditControl(
  environment: TestEnvironment,
  purchases: readonly Pick<PurchaseRow, 'id' | 'eventId'>[],
  options: { fifo: boolean },
): Promise<Books> {
  const accepted = new Map(
    purchases.map((purchase) => [purchase.id, { purchaseId: purchase.id, eventId: purchase.eventId }]),
  );
  return auditDatabase(environment.config.databaseUrl, { accepted, duplicated: 0, rejected: [] }, options);
}
