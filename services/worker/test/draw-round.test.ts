import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import {
  drawCommitment,
  drawKey,
  drawOrder,
  insertAcceptedPurchase,
  insertEvent,
  newDrawSeed,
  newPurchaseRow,
  useTestDatabase,
} from '@ticketing/shared/testing';
import { applyRound, latestSeq } from '../src/decide/round.js';

const { db } = await useTestDatabase({ poolSize: 4 });

/** An event whose sale starts `inMs` from now by Postgres's clock, with `entrants` pre-queued buyers. */
async function preQueuedSale(totalTickets: number, entrants: number, inMs: number) {
  const seed = newDrawSeed();
  const { rows } = await sql<{ at: Date }>`
    select clock_timestamp() + make_interval(secs => ${inMs / 1000}) as at`.execute(db);
  const event = await insertEvent(db, {
    totalTickets,
    salesStartAt: rows[0]!.at,
    drawSeed: seed,
    drawCommitment: drawCommitment(seed),
  });
  // Stored with the api's statement, which pre-queues them: the sale has not started.
  const ids: string[] = [];
  for (let index = 0; index < entrants; index++) {
    const purchase = newPurchaseRow(event.id, `u${index}`);
    const row = await insertAcceptedPurchase(db, { ...purchase, drawKey: drawKey(seed, purchase.id) });
    expect(row.status).toBe('prequeued');
    ids.push(row.id);
  }
  return { event, seed, ids };
}

const round = async (eventId: string, batch: number) =>
  applyRound(db, [{ eventId, upToSeq: await latestSeq(db) }], batch);

/** Purchases in the order they were decided: the confirmed (by booking), then the line. */
async function decidedOrder(eventId: string) {
  return db
    .selectFrom('purchases as p')
    .leftJoin('waitlistEntries as w', 'w.purchaseId', 'p.id')
    .select(['p.id', 'p.status', 'p.drawKey', 'w.lineNo'])
    .where('p.eventId', '=', eventId)
    .execute();
}

describe('the draw in rounds', () => {
  it('when rounds run before the start, then they decide nothing and make no draw, whatever their target', async () => {
    const { event } = await preQueuedSale(2, 5, 60_000);
    const outcome = await round(event.id, 100);
    expect(outcome.updates).toEqual([]);
    expect(outcome.draws).toEqual([]);
    expect(outcome.unfinished.size).toBe(0);
    const rows = await decidedOrder(event.id);
    expect(rows.every((row) => row.status === 'prequeued')).toBe(true);
    const row = await db
      .selectFrom('events')
      .selectAll()
      .where('id', '=', event.id)
      .executeTakeFirstOrThrow();
    expect(row.drawnAt).toBeNull();
  });

  it('when the draw is decided over many rounds, one of them failing, then it is made once and decided in ascending key', async () => {
    const { event, seed, ids } = await preQueuedSale(3, 12, 300);
    await sleep(400);
    const first = await round(event.id, 4);
    expect(first.draws).toEqual([expect.objectContaining({ eventId: event.id, entrants: 12 })]);
    expect(first.updates).toHaveLength(4);

    // A round that fails after deciding its batch (a worker killed before its commit) leaves nothing.
    await expect(
      applyRound(db, [{ eventId: event.id, upToSeq: await latestSeq(db) }], 4, {
        record: () => Promise.reject(new Error('killed')),
      }),
    ).rejects.toThrow('killed');

    const drawnAt = (
      await db.selectFrom('events').select('drawnAt').where('id', '=', event.id).executeTakeFirstOrThrow()
    ).drawnAt;
    let rounds = 1;
    for (;;) {
      const next = await round(event.id, 4);
      expect(next.draws).toEqual([]); // made once
      rounds += 1;
      if (!next.unfinished.has(event.id)) break;
    }
    expect(rounds).toBeLessThanOrEqual(5);
    const row = await db
      .selectFrom('events')
      .selectAll()
      .where('id', '=', event.id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ drawEntrants: 12, drawnAt });
    expect(row.drawFinishedAt).not.toBeNull();

    const keyOf = new Map(ids.map((id) => [drawKey(seed, id), id]));
    const inDrawnOrder = drawOrder([...keyOf.keys()]).map((key) => keyOf.get(key)!);
    const rows = new Map((await decidedOrder(event.id)).map((each) => [each.id, each]));
    expect(inDrawnOrder.map((id) => rows.get(id)?.status)).toEqual([
      'confirmed',
      'confirmed',
      'confirmed',
      ...Array<string>(9).fill('waitlisted'),
    ]);
    const line = inDrawnOrder.slice(3).map((id) => rows.get(id)?.lineNo);
    expect(line).toEqual([...line].sort((a, b) => (a ?? 0) - (b ?? 0)));
  });
});
