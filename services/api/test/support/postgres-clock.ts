import type { Db } from '@ticketing/shared';
import { sql } from 'kysely';

// Sale windows are judged by Postgres's clock, so tests that wait for a start or an end read it too.

export async function postgresNow(db: Db): Promise<Date> {
  const { rows } = await sql<{ now: Date }>`select clock_timestamp() as now`.execute(db);
  return rows[0]!.now;
}

/** Waits until Postgres's clock reads `at` or later. */
export async function sleepUntilPostgres(db: Db, at: Date): Promise<void> {
  for (;;) {
    const left = at.getTime() - (await postgresNow(db)).getTime();
    if (left <= 0) return;
    await new Promise((resolve) => setTimeout(resolve, Math.min(left, 200)));
  }
}
