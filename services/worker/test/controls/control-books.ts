import { auditBooks, type Books } from '@ticketing/faults/books';
import type { PurchaseRow, TestEnvironment } from '@ticketing/shared/testing';
import pg from 'pg';

/**
 * The fault suite's audit of the books (packages/faults/test/support/books.ts), on a control's
 * database: every purchase the control stored counts as accepted, as if a buyer had its 202.
 */
export async function auditControl(
  environment: TestEnvironment,
  purchases: readonly Pick<PurchaseRow, 'id' | 'eventId'>[],
  options: { fifo: boolean },
): Promise<Books> {
  const pool = new pg.Pool({ connectionString: environment.config.databaseUrl, max: 2 });
  // Dropping the test's database ends the connections; an ending client must not crash the run.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  try {
    const accepted = new Map(
      purchases.map((purchase) => [purchase.id, { purchaseId: purchase.id, eventId: purchase.eventId }]),
    );
    return await auditBooks(pool, { accepted, duplicated: 0, rejected: [] }, options);
  } finally {
    await pool.end();
  }
}
