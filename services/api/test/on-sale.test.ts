import { createHash } from 'node:crypto';
import { checkDraw, drawKey, drawOrder } from '@ticketing/shared';
import { describe, expect, it } from 'vitest';
import { httpHelpers, type PurchaseBody } from './support/http.js';
import { useTestSystem } from './support/test-system.js';
import { postgresNow, sleepUntilPostgres } from './support/postgres-clock.js';

const system = await useTestSystem();
const { inject, createEvent, submit, poll } = httpHelpers(() => system);

const db = () => system.deps.db;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const dbNow = () => postgresNow(db());
const sleepUntil = (at: Date) => sleepUntilPostgres(db(), at);

const later = (from: Date, ms: number) => new Date(from.getTime() + ms);

interface DrawBody {
  commitment: string;
  drawn: boolean;
  seed?: string;
  entrants?: number;
  keys?: string[];
}

async function draw(eventId: string): Promise<DrawBody> {
  const response = await inject({ method: 'GET', url: `/events/${eventId}/draw` });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<DrawBody>();
}

function attempt(eventId: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return inject({ method: 'POST', url: `/events/${eventId}/purchases`, payload: body, headers });
}

async function purchaseRows(eventId: string) {
  return db()
    .selectFrom('purchases as p')
    .leftJoin('waitlistEntries as w', 'w.purchaseId', 'p.id')
    .select(['p.id', 'p.userId', 'p.status', 'p.drawKey', 'p.processedAt', 'p.seq', 'w.lineNo'])
    .where('p.eventId', '=', eventId)
    .orderBy('p.seq')
    .execute();
}

describe('the sale window', () => {
  it('when a window is inconsistent, then creating the event is a 422 naming the field, and nothing is stored', async () => {
    const now = await dbNow();
    const bodies = [
      { salesStartAt: later(now, 60_000).toISOString(), salesEndAt: later(now, 30_000).toISOString() },
      {
        salesStartAt: later(now, 60_000).toISOString(),
        preQueueOpensAt: later(now, 90_000).toISOString(),
      },
      { preQueueOpensAt: later(now, 90_000).toISOString() },
    ];
    const before = await db().selectFrom('events').select('id').execute();
    for (const body of bodies) {
      const response = await inject({
        method: 'POST',
        url: '/events',
        payload: { name: 'Bad window', totalTickets: 5, priceCents: 100, ...body },
      });
      expect(response.statusCode, response.body).toBe(422);
      expect(response.json()).toMatchObject({ code: 'invalid_sale_window' });
      expect(response.json<{ message: string }>().message).toMatch(/salesEndAt|preQueueOpensAt/);
    }
    const garbled = await inject({
      method: 'POST',
      url: '/events',
      payload: { name: 'Bad date', totalTickets: 5, priceCents: 100, salesStartAt: 'tomorrow at ten' },
    });
    expect(garbled.statusCode).toBe(400);
    expect(garbled.json()).toHaveProperty('code');
    expect(await db().selectFrom('events').select('id').execute()).toHaveLength(before.length);
  });

  it('when an event has no sale start, then it is on sale from creation and has no draw', async () => {
    const event = await createEvent({ totalTickets: 2 });
    const view = await inject({ method: 'GET', url: `/events/${event.id}` });
    expect(view.json()).toMatchObject({
      salesStartAt: null,
      salesEndAt: null,
      preQueueOpensAt: null,
      saleState: 'on_sale',
    });
    const response = await inject({ method: 'GET', url: `/events/${event.id}/draw` });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ code: 'no_draw' });
    const accepted = await submit(event.id, { userId: 'plain' });
    expect(accepted.status).toBe('queued');
    expect(await poll(accepted.purchaseId)).toMatchObject({ status: 'confirmed' });
  });

  it('when the pre-queue is not open yet, then a purchase is 409 sale_not_open naming when it opens, and nothing is stored', async () => {
    const now = await dbNow();
    const opens = later(now, 60_000);
    const event = await createEvent({
      preQueueOpensAt: opens.toISOString(),
      salesStartAt: later(now, 120_000).toISOString(),
    });
    const response = await attempt(event.id, { userId: 'early-bird' });
    expect(response.statusCode, response.body).toBe(409);
    expect(response.json()).toMatchObject({ code: 'sale_not_open' });
    expect(response.json<{ message: string }>().message).toContain(opens.toISOString());
    const status = await inject({ method: 'GET', url: `/events/${event.id}/status` });
    expect(status.json()).toMatchObject({ saleState: 'scheduled', prequeueSize: 0 });
    const published = await draw(event.id);
    expect(published).toMatchObject({ drawn: false });
    expect(published.commitment).toMatch(/^[0-9a-f]{64}$/);
    expect(published.seed).toBeUndefined();
    expect(await purchaseRows(event.id)).toEqual([]);
  });
});

describe('the on-sale moment', () => {
  it('when buyers pre-queue, then nothing is decided before the start, and at the start they are decided in the published draw order, ahead of later buyers', async () => {
    const start = later(await dbNow(), 2_500);
    const event = await createEvent({ totalTickets: 3, salesStartAt: start.toISOString() });
    const { commitment } = await draw(event.id);

    const entries: PurchaseBody[] = [];
    for (let buyer = 0; buyer < 8; buyer++) {
      const entry = await submit(event.id, { userId: `pre-${buyer}` }, { 'idempotency-key': `k-${buyer}` });
      expect(entry).toMatchObject({ status: 'prequeued' });
      expect(entry).not.toHaveProperty('queuePosition');
      entries.push(entry);
    }
    // A buyer's second entry is refused, naming the first; a retry with the same key is the same entry.
    const second = await attempt(event.id, { userId: 'pre-0' });
    expect(second.statusCode, second.body).toBe(409);
    expect(second.json()).toMatchObject({ code: 'already_queued' });
    expect(second.json<{ message: string }>().message).toContain(entries[0]!.purchaseId);
    const retry = await attempt(event.id, { userId: 'pre-0' }, { 'idempotency-key': 'k-0' });
    expect(retry.statusCode).toBe(202);
    expect(retry.json()).toMatchObject({ purchaseId: entries[0]!.purchaseId, status: 'prequeued' });

    // Cancelled in the pre-queue: at once, and no longer an entrant.
    const leaving = entries[7]!;
    const cancelled = await inject({ method: 'POST', url: `/purchases/${leaving.purchaseId}/cancel` });
    expect(cancelled.statusCode, cancelled.body).toBe(202);
    expect(cancelled.json()).toMatchObject({ status: 'cancelled' });
    const entrants = entries.slice(0, 7);

    const during = await inject({ method: 'GET', url: `/events/${event.id}/status` });
    expect(during.json()).toMatchObject({ saleState: 'prequeue', prequeueSize: 7, availableTickets: 3 });

    // The worker runs and scans all along: just before the start, nothing is decided.
    await sleepUntil(later(start, -400));
    const before = await purchaseRows(event.id);
    expect(before.filter((row) => row.status === 'prequeued')).toHaveLength(7);
    expect(before.every((row) => row.processedAt === null || row.id === leaving.purchaseId)).toBe(true);
    expect(await draw(event.id)).toMatchObject({ drawn: false, commitment });

    await sleepUntil(start);
    const after = [
      await submit(event.id, { userId: 'post-0' }),
      await submit(event.id, { userId: 'post-1' }),
    ];
    expect(after.map((purchase) => purchase.status)).toEqual(['queued', 'queued']);
    const decided = new Map<string, PurchaseBody>();
    for (const purchase of [...entrants, ...after])
      decided.set(purchase.purchaseId, await poll(purchase.purchaseId));

    // The draw as published: the seed matches the commitment, and the keys are the entrants'.
    const published = await draw(event.id);
    expect(published).toMatchObject({ drawn: true, commitment, entrants: 7 });
    const seed = Buffer.from(published.seed ?? '', 'hex');
    expect(createHash('sha256').update(seed).digest('hex')).toBe(commitment);
    const keyOf = new Map(entrants.map((entry) => [drawKey(seed, entry.purchaseId), entry.purchaseId]));
    expect(published.keys).toEqual(drawOrder([...keyOf.keys()]));
    expect(
      checkDraw({
        commitment,
        seedHex: published.seed ?? '',
        keys: published.keys ?? [],
        purchaseId: entrants[3]!.purchaseId,
      }),
    ).toMatchObject({ ok: true, entrants: 7 });

    // Decided in drawn order: the first three keys confirmed, the others waiting in key order, then the
    // buyers who came after the start.
    const inDrawnOrder = (published.keys ?? []).map((key) => keyOf.get(key)!);
    const outcomes = [...inDrawnOrder, ...after.map((purchase) => purchase.purchaseId)].map((id) =>
      decided.get(id)!,
    );
    expect(outcomes.map((purchase) => purchase.status)).toEqual([
      'confirmed',
      'confirmed',
      'confirmed',
      ...Array<string>(6).fill('waitlisted'),
    ]);
    expect(outcomes.slice(3).map((purchase) => purchase.waitlistPosition)).toEqual([1, 2, 3, 4, 5, 6]);

    const rows = await purchaseRows(event.id);
    for (const row of rows) {
      if (row.id === leaving.purchaseId) {
        expect(row).toMatchObject({ status: 'cancelled', drawKey: null });
        continue;
      }
      expect(row.processedAt!.getTime()).toBeGreaterThanOrEqual(start.getTime());
    }
    const line = rows.filter((row) => row.lineNo !== null).sort((a, b) => a.lineNo! - b.lineNo!);
    expect(line.map((row) => row.id)).toEqual(outcomes.slice(3).map((purchase) => purchase.purchaseId));
    const eventRow = await db()
      .selectFrom('events')
      .select(['drawnAt', 'drawEntrants', 'drawFinishedAt', 'soldTickets'])
      .where('id', '=', event.id)
      .executeTakeFirstOrThrow();
    expect(eventRow).toMatchObject({ drawEntrants: 7, soldTickets: 3 });
    expect(eventRow.drawnAt!.getTime()).toBeGreaterThanOrEqual(start.getTime());
    expect(eventRow.drawFinishedAt).not.toBeNull();
    const view = await inject({ method: 'GET', url: `/events/${event.id}` });
    expect(view.json()).toMatchObject({ saleState: 'on_sale', salesStartAt: start.toISOString() });
  });

  it('when purchases arrive right across the start, then every pre-queued one is decided before every one after it', async () => {
    const start = later(await dbNow(), 1_500);
    const event = await createEvent({ totalTickets: 1, salesStartAt: start.toISOString() });
    await sleepUntil(later(start, -500));
    const submitted: PurchaseBody[] = [];
    let buyer = 0;
    const until = later(start, 500).getTime();
    while ((await dbNow()).getTime() < until) {
      const burst = await Promise.all(
        Array.from({ length: 5 }, () => submit(event.id, { userId: `edge-${buyer++}` })),
      );
      submitted.push(...burst);
    }
    const prequeued = submitted.filter((purchase) => purchase.status === 'prequeued');
    const queued = submitted.filter((purchase) => purchase.status === 'queued');
    expect(prequeued.length).toBeGreaterThan(0);
    expect(queued.length).toBeGreaterThan(0);
    for (const purchase of submitted) await poll(purchase.purchaseId);

    const published = await draw(event.id);
    expect(published.entrants).toBe(prequeued.length);
    const rows = await purchaseRows(event.id);
    const byId = new Map(rows.map((row) => [row.id, row]));
    // The line: the confirmed one, then the waiting list by line number; pre-queued ones all first.
    const order = rows
      .filter((row) => row.status === 'confirmed' || row.lineNo !== null)
      .sort((a, b) => (a.lineNo ?? 0) - (b.lineNo ?? 0))
      .map((row) => row.id);
    const wasPrequeued = new Set(prequeued.map((purchase) => purchase.purchaseId));
    const firstQueued = order.findIndex((id) => !wasPrequeued.has(id));
    expect(firstQueued).toBe(prequeued.length);
    // The pre-queued ones in key order, the queued ones in arrival order.
    expect(order.slice(0, firstQueued).map((id) => byId.get(id)!.drawKey)).toEqual(published.keys);
    const queuedSeqs = order.slice(firstQueued).map((id) => byId.get(id)!.seq);
    expect(queuedSeqs).toEqual([...queuedSeqs].sort((a, b) => a - b));
  });

  it('when the sale has ended, then a purchase is 409 sale_ended while those accepted before are still decided', async () => {
    const now = await dbNow();
    const start = later(now, 1_000);
    const end = later(now, 2_000);
    const event = await createEvent({
      totalTickets: 2,
      salesStartAt: start.toISOString(),
      salesEndAt: end.toISOString(),
    });
    const early = await submit(event.id, { userId: 'in-time' });
    expect(early.status).toBe('prequeued');
    await sleepUntil(end);
    const late = await attempt(event.id, { userId: 'too-late' });
    expect(late.statusCode, late.body).toBe(409);
    expect(late.json()).toMatchObject({ code: 'sale_ended' });
    expect(await poll(early.purchaseId)).toMatchObject({ status: 'confirmed' });
    const view = await inject({ method: 'GET', url: `/events/${event.id}` });
    expect(view.json()).toMatchObject({ saleState: 'ended' });
    const rows = await purchaseRows(event.id);
    expect(rows.map((row) => row.userId)).toEqual(['in-time']);
  });

  it('when a sale starts, then its webhooks, the monitor and the metrics show the pre-queue, the countdown and the start', async () => {
    const registered = await inject({
      method: 'POST',
      url: '/webhooks',
      payload: { url: 'http://127.0.0.1:9/hooks', events: ['purchase.prequeued', 'event.sale_started'] },
    });
    expect(registered.statusCode, registered.body).toBe(201);
    await sleep(1_500); // every process re-reads the endpoints within a second
    const start = later(await dbNow(), 2_500);
    const event = await createEvent({ totalTickets: 5, salesStartAt: start.toISOString() });
    const entries = [await submit(event.id, { userId: 'w-0' }), await submit(event.id, { userId: 'w-1' })];

    const overview = await inject({ method: 'GET', url: '/admin/api/sales' });
    expect(overview.statusCode, overview.body).toBe(200);
    const item = overview
      .json<{ items: { eventId: string; saleState: string; prequeueSize: number; startsInMs: number }[] }>()
      .items.find((each) => each.eventId === event.id);
    expect(item).toMatchObject({ saleState: 'prequeue', prequeueSize: 2 });
    expect(item!.startsInMs).toBeGreaterThan(0);
    expect(item!.startsInMs).toBeLessThanOrEqual(2_500);
    const metrics = (await inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain(`ticketing_prequeue_size{event_id="${event.id}"} 2`);
    expect(metrics).toContain(`ticketing_sale_state{event_id="${event.id}",state="prequeue"} 1`);

    await sleepUntil(start);
    for (const entry of entries) await poll(entry.purchaseId);
    const messages = await db()
      .selectFrom('webhookMessages')
      .select(['type', 'subjectId', 'body'])
      .where('subjectId', 'in', [event.id, ...entries.map((entry) => entry.purchaseId)])
      .orderBy('seq')
      .execute();
    expect(messages.map((message) => message.type)).toEqual([
      'purchase.prequeued',
      'purchase.prequeued',
      'event.sale_started',
    ]);
    expect(JSON.parse(messages[2]!.body)).toMatchObject({
      type: 'event.sale_started',
      data: { eventId: event.id, entrants: 2, commitment: (await draw(event.id)).commitment },
    });
    expect(JSON.parse(messages[0]!.body)).toMatchObject({ data: { status: 'prequeued' } });
    const after = (await inject({ method: 'GET', url: '/metrics' })).body;
    expect(after).toContain(`ticketing_sale_state{event_id="${event.id}",state="on_sale"} 1`);
  });
});
