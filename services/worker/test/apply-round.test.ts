import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDb,
  createTestEnvironment,
  newPurchaseRow,
  type Database,
  type TestEnvironment,
} from '@ticketing/shared/testing';
import { applyRound } from '../src/apply-round.js';

let environment: TestEnvironment;
let db: Kysely<Database>;
beforeAll(async () => {
  environment = await createTestEnvironment();
  db = createDb(environment.config.databaseUrl, { poolSize: 4 });
});
afterAll(async () => {
  await db?.destroy();
  await environment?.destroy();
});

async function saleWithQueued(count: number) {
  const event = await db
    .insertInto('events')
    .values({ name: 'Rounds', totalTickets: 100, priceCents: 500, currency: 'USD', maxPerPurchase: 4 })
    .returningAll()
    .executeTakeFirstOrThrow();
  const seqs: number[] = [];
  for (let index = 0; index < count; index += 1) {
    const row = await db
      .insertInto('purchases')
      .values(newPurchaseRow(event.id, `buyer-${index}`, 1))
      .returning('seq')
      .executeTakeFirstOrThrow();
    seqs.push(row.seq);
  }
  return { eventId: event.id, seqs };
}

const statusesOf = async (eventId: string): Promise<string[]> =>
  (
    await db.selectFrom('purchases').select('status').where('eventId', '=', eventId).orderBy('seq').execute()
  ).map((row) => row.status);

describe('rounds that know what is already decided', () => {
  it('when a round decides purchases, then it reports the newest one, and the next round starts after it', async () => {
    const { eventId, seqs } = await saleWithQueued(5);
    const upToSeq = seqs[4] ?? 0;

    const first = await applyRound(db, [{ eventId, upToSeq }], 3);
    expect(first.decidedThrough.get(eventId)).toBe(seqs[2]);
    expect(first.unfinished.has(eventId)).toBe(true);

    const second = await applyRound(
      db,
      [{ eventId, upToSeq, decidedThrough: first.decidedThrough.get(eventId) }],
      3,
    );
    expect(second.settlements.map((settlement) => settlement.status)).toEqual(['confirmed', 'confirmed']);
    expect(second.decidedThrough.get(eventId)).toBe(seqs[4]);
    expect(await statusesOf(eventId)).toEqual(Array(5).fill('confirmed'));
  });

  it('when a purchase sits at or below what a round is told is decided, then only a round told nothing decides it', async () => {
    const { eventId, seqs } = await saleWithQueued(3);
    const upToSeq = seqs[2] ?? 0;

    // A wrong belief hides the first purchase from the search...
    const hinted = await applyRound(db, [{ eventId, upToSeq, decidedThrough: seqs[0] }], 10);
    expect(hinted.settlements).toHaveLength(2);
    expect(await statusesOf(eventId)).toEqual(['queued', 'confirmed', 'confirmed']);

    // ...and the scan of Postgres, whose rounds carry no belief, still finds it.
    const fromScan = await applyRound(db, [{ eventId, upToSeq }], 10);
    expect(fromScan.settlements).toHaveLength(1);
    expect(await statusesOf(eventId)).toEqual(['confirmed', 'confirmed', 'confirmed']);
  });
});
