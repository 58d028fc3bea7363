import { describe, expect, it } from 'vitest';
import {
  insertAcceptedPurchases,
  insertEvent,
  newPurchaseRow,
  useTestDatabase,
} from '@ticketing/shared/testing';
import { latestSeq } from '../src/decide/round.js';
import { drainEvent } from './support/rounds.js';

const { db } = await useTestDatabase({ poolSize: 8 });

const eventWith = (totalTickets: number) => insertEvent(db, { totalTickets });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('queue order across concurrent inserts', () => {
  it('when an insert that numbered its rows first commits last, then the worker still decides in number order', async () => {
    const [busy, scarce] = [await eventWith(10), await eventWith(1)];

    // A worker is deciding `busy`: it holds the row lock, so a multi-event insert that touches it waits.
    let releaseBusy = (): void => undefined;
    const busyHeld = new Promise<void>((resolve) => (releaseBusy = resolve));
    let lockTaken = (): void => undefined;
    const locked = new Promise<void>((resolve) => (lockTaken = resolve));
    const holder = db.transaction().execute(async (tx) => {
      await tx.selectFrom('events').select('id').where('id', '=', busy.id).forUpdate().execute();
      lockTaken();
      await busyHeld;
    });
    await locked;

    // One batch for both events, as the api inserts requests that arrive together, stuck behind the
    // lock on `busy`.
    const early = [newPurchaseRow(busy.id, 'early-busy'), newPurchaseRow(scarce.id, 'early-scarce')];
    const earlyBatch = insertAcceptedPurchases(db, early);
    await sleep(200);
    // Meanwhile another request for `scarce` arrives, and a worker starts draining `scarce`.
    const late = insertAcceptedPurchases(db, [newPurchaseRow(scarce.id, 'late-scarce')]);
    await sleep(100);
    const drain = drainEvent(db, scarce.id, await latestSeq(db), 100);
    await sleep(200);

    releaseBusy();
    await Promise.all([holder, earlyBatch, late, drain]);
    await drainEvent(db, scarce.id, await latestSeq(db), 100);

    const rows = await db
      .selectFrom('purchases')
      .select(['userId', 'status', 'seq'])
      .where('eventId', '=', scarce.id)
      .orderBy('seq')
      .execute();
    // Whoever holds the lower number holds the one ticket.
    expect(rows.map((row) => row.status)).toEqual(['confirmed', 'waitlisted']);
  });
});
