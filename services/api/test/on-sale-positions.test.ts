import { drawKey } from '@ticketing/shared';
import { describe, expect, it } from 'vitest';
import { httpHelpers, type PurchaseBody } from './support/http.js';
import { useTestSystem } from './support/test-system.js';
import { postgresNow, sleepUntilPostgres } from './support/postgres-clock.js';

type WaitingBody = PurchaseBody & { queuePosition?: number };

// One purchase per round, so the draw is decided one entrant at a time and can be read mid-way.
const system = await useTestSystem({ WORKER_BATCH_SIZE: '1' }, { worker: false });
const { inject, createEvent, submit, poll } = httpHelpers(() => system);

const db = () => system.deps.db;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const dbNow = () => postgresNow(db());
const sleepUntil = (at: Date) => sleepUntilPostgres(db(), at);

async function read(purchaseId: string): Promise<WaitingBody> {
  const response = await inject({ method: 'GET', url: `/purchases/${purchaseId}` });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<WaitingBody>();
}

interface Snapshot {
  /** How many entrants the draw had decided when the positions were read. */
  readonly decided: number;
  /** Each purchase's answer, by id. */
  readonly bodies: Map<string, WaitingBody>;
}

/**
 * Holds the event's row lock (the one every worker round takes) while reading positions, so the draw
 * stands still between reading its cursor and reading the answers; retries until the draw is made and
 * past `afterDecided` entrants, but not finished.
 */
async function readMidDraw(
  eventId: string,
  keys: () => Promise<string[]>,
  ids: string[],
  afterDecided: number,
) {
  for (let attempt = 0; attempt < 2_000; attempt++) {
    const snapshot = await db()
      .transaction()
      .execute(async (tx): Promise<Snapshot | 'finished' | undefined> => {
        const event = await tx
          .selectFrom('events')
          .select(['drawnAt', 'drawCursor', 'drawFinishedAt'])
          .where('id', '=', eventId)
          .forNoKeyUpdate()
          .executeTakeFirstOrThrow();
        if (event.drawFinishedAt !== null) return 'finished';
        if (event.drawnAt === null || event.drawCursor === null) return undefined;
        const decided = (await keys()).indexOf(event.drawCursor) + 1;
        if (decided <= afterDecided) return undefined;
        const bodies = new Map<string, WaitingBody>();
        for (const id of ids) bodies.set(id, await read(id));
        return { decided, bodies };
      });
    if (snapshot === 'finished') throw new Error('the draw finished before it could be read mid-way');
    if (snapshot !== undefined) return snapshot;
    await sleep(5);
  }
  throw new Error('the draw made no progress');
}

describe('queue positions in an on-sale', () => {
  it('when the draw is decided, then every entrant and every later buyer has exactly the undecided purchases ahead, in drawn order, going down', async () => {
    const start = new Date((await dbNow()).getTime() + 2_500);
    // As many tickets as entrants: the later buyers, who will not wait, are rejected.
    const event = await createEvent({ totalTickets: 30, salesStartAt: start.toISOString() });
    const entrants: PurchaseBody[] = [];
    for (let buyer = 0; buyer < 30; buyer++)
      entrants.push(await submit(event.id, { userId: `pre-${buyer}` }));
    // Withdrawn before the start: never an entrant, never decided.
    const withdrawn = await submit(event.id, { userId: 'pre-leaving' });
    const leaving = await inject({ method: 'POST', url: `/purchases/${withdrawn.purchaseId}/cancel` });
    expect(leaving.json()).toMatchObject({ status: 'cancelled' });

    // Before the start: pre-queued, with no place.
    const early = await read(entrants[0]!.purchaseId);
    expect(early.status).toBe('prequeued');
    expect(early).not.toHaveProperty('queuePosition');

    await sleepUntil(start);
    const later = [
      await submit(event.id, { userId: 'post-0', joinWaitlist: false }),
      await submit(event.id, { userId: 'post-1', joinWaitlist: false }),
    ];
    expect(later.map((purchase) => purchase.status)).toEqual(['queued', 'queued']);
    // The sale has started but no worker has made the draw yet: no place for anyone.
    for (const purchase of [entrants[0]!, later[0]!])
      expect(await read(purchase.purchaseId)).not.toHaveProperty('queuePosition');

    let published: string[] | undefined;
    const keys = async () => {
      if (published === undefined) {
        const response = await inject({ method: 'GET', url: `/events/${event.id}/draw` });
        published = response.json<{ keys: string[] }>().keys;
      }
      return published;
    };
    const ids = [...entrants, ...later].map((purchase) => purchase.purchaseId);
    await system.startWorker();
    const first = await readMidDraw(event.id, keys, ids, 0);
    const second = await readMidDraw(event.id, keys, ids, first.decided);

    const drawn = await keys();
    expect(drawn).toHaveLength(30);
    const seedHex = (await inject({ method: 'GET', url: `/events/${event.id}/draw` })).json<{
      seed: string;
    }>().seed;
    const seed = Buffer.from(seedHex, 'hex');
    const placeOf = (purchaseId: string) => drawn.indexOf(drawKey(seed, purchaseId));
    for (const { decided, bodies } of [first, second]) {
      for (const entrant of entrants) {
        const body = bodies.get(entrant.purchaseId)!;
        const place = placeOf(entrant.purchaseId);
        if (place < decided) {
          expect(body.status, `drawn ${place + 1}th, ${decided} decided`).not.toBe('prequeued');
          expect(body).not.toHaveProperty('queuePosition');
        } else expect(body).toMatchObject({ status: 'prequeued', queuePosition: place - decided });
      }
      // Behind every entrant still undecided, then in arrival order.
      expect(bodies.get(later[0]!.purchaseId)).toMatchObject({
        status: 'queued',
        queuePosition: 30 - decided,
      });
      expect(bodies.get(later[1]!.purchaseId)).toMatchObject({
        status: 'queued',
        queuePosition: 31 - decided,
      });
    }
    expect(second.decided).toBeGreaterThan(first.decided);

    // The rest is decided in the same order, the later buyers last.
    const outcomes = await Promise.all(ids.map((id) => poll(id)));
    expect(outcomes.map((body) => body.status)).toEqual([
      ...Array<string>(30).fill('confirmed'),
      'rejected',
      'rejected',
    ]);
    const rows = await db()
      .selectFrom('purchases')
      .select(['id', 'processedAt', 'status'])
      .where('eventId', '=', event.id)
      .execute();
    const processed = new Map(rows.map((row) => [row.id, row.processedAt!.getTime()]));
    const inDrawnOrder = [...entrants]
      .sort((a, b) => placeOf(a.purchaseId) - placeOf(b.purchaseId))
      .map((entrant) => processed.get(entrant.purchaseId)!);
    expect(inDrawnOrder).toEqual([...inDrawnOrder].sort((a, b) => a - b));
    expect(processed.get(later[0]!.purchaseId)!).toBeGreaterThanOrEqual(inDrawnOrder.at(-1)!);
    const after = await read(later[1]!.purchaseId);
    expect(after).not.toHaveProperty('queuePosition');

    // The monitor counts the draw's decisions among the decided, and the withdrawal not among them.
    const monitored = async () =>
      (await inject({ method: 'GET', url: '/admin/api/sales' }))
        .json<{ items: { eventId: string; decided: number; outcomes: Record<string, number> }[] }>()
        .items.find((item) => item.eventId === event.id);
    let item = await monitored();
    // The workers' pace trails their commits by a round trip.
    for (let tries = 0; item?.decided !== 32 && tries < 50; tries++) {
      await sleep(100);
      item = await monitored();
    }
    expect(item).toMatchObject({
      decided: 32,
      outcomes: { confirmed: 30, held: 0, waitlisted: 0, cancelled: 0, expired: 0, rejected: 2 },
    });
  });
});
