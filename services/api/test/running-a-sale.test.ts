import { sleep, waitFor } from '@ticketing/harness';
import { WebhookReceiver } from '@ticketing/shared/testing';
import { buildApp } from '../src/app.js';
import { closeAppDeps, openAppDeps } from '../src/compose.js';
import { afterAll, describe, expect, it } from 'vitest';
import { httpHelpers } from './support/http.js';
import { useTestSystem } from './support/test-system.js';

const system = await useTestSystem();
const { inject, createEvent, submit, buy, poll } = httpHelpers(() => system);
const db = system.deps.db;
const MISSING = '00000000-0000-4000-8000-000000000000';

interface EventBody {
  id: string;
  name: string;
  totalTickets: number;
  priceCents: number;
  maxPerPurchase: number;
  holdSeconds: number;
  salesEndAt: string | null;
  saleState: string;
  pausedAt: string | null;
  pendingTotalTickets: number | null;
  cancellation: { reason: string; requestedAt: string; finishedAt: string | null } | null;
}

const patch = (eventId: string, payload: unknown) =>
  inject({ method: 'PATCH', url: `/events/${eventId}`, payload: payload as Record<string, unknown> });
const operate = (eventId: string, operation: 'pause' | 'resume' | 'close') =>
  inject({ method: 'POST', url: `/events/${eventId}/${operation}` });
const cancelEvent = (eventId: string, reason = 'The venue flooded') =>
  inject({ method: 'POST', url: `/events/${eventId}/cancel`, payload: { reason } });
const eventRow = (eventId: string) =>
  db.selectFrom('events').selectAll().where('id', '=', eventId).executeTakeFirstOrThrow();

/** Until the workers have cancelled every purchase of a cancelled event. */
async function waitForCancellation(eventId: string): Promise<EventBody> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const view = (await inject({ method: 'GET', url: `/events/${eventId}` })).json<EventBody>();
    if (view.cancellation?.finishedAt !== null && view.cancellation?.finishedAt !== undefined) return view;
    if (Date.now() > deadline) throw new Error(`the cancellation of ${eventId} did not finish`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();

describe('PATCH /events/:id', () => {
  it('when the terms change, then the event answers and stores them, and a repeat changes nothing', async () => {
    const event = await createEvent({ totalTickets: 10, priceCents: 1000, maxPerPurchase: 4 });
    const salesEndAt = inAnHour();
    const body = { name: 'Renamed', priceCents: 1500, maxPerPurchase: 2, salesEndAt };
    const response = await patch(event.id, body);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json<EventBody>()).toMatchObject({
      ...body,
      totalTickets: 10,
      saleState: 'on_sale',
      pausedAt: null,
      pendingTotalTickets: null,
      cancellation: null,
    });
    expect(await eventRow(event.id)).toMatchObject({
      name: 'Renamed',
      priceCents: 1500,
      maxPerPurchase: 2,
      salesEndAt: new Date(salesEndAt),
    });
    const repeat = await patch(event.id, body);
    expect(repeat.statusCode).toBe(200);
    expect(repeat.json()).toEqual(response.json());
  });

  it('when maxPerPurchase changes, then the next purchase request is checked against the new limit', async () => {
    const event = await createEvent({ totalTickets: 10, maxPerPurchase: 4 });
    // The limit is now in this process's cache.
    await submit(event.id, { userId: 'before', quantity: 4 });
    expect((await patch(event.id, { maxPerPurchase: 2 })).statusCode).toBe(200);
    const over = await inject({
      method: 'POST',
      url: `/events/${event.id}/purchases`,
      payload: { userId: 'after', quantity: 3 },
    });
    expect(over.statusCode).toBe(422);
    expect(over.json()).toMatchObject({ code: 'quantity_over_limit' });
  });

  it('when maxPerPurchase changes on one api process, then another forgets its cached limit', async () => {
    const otherDeps = await openAppDeps(system.config);
    const other = buildApp(otherDeps);
    try {
      const event = await createEvent({ totalTickets: 10, maxPerPurchase: 4 });
      const request = (userId: string, quantity: number) =>
        other.inject({
          method: 'POST',
          url: `/events/${event.id}/purchases`,
          payload: { userId, quantity },
        });
      // The other process caches the limit with its first purchase.
      expect((await request('cached', 4)).statusCode).toBe(202);
      expect((await patch(event.id, { maxPerPurchase: 2 })).statusCode).toBe(200);
      // Announced over Redis: the other process hears of it a moment later.
      await waitFor(
        'the other api process to refuse 3 tickets',
        async () => {
          const response = await request(`after-${Date.now()}`, 3);
          return (
            response.statusCode === 422 && response.json<{ code: string }>().code === 'quantity_over_limit'
          );
        },
        5_000,
      );
    } finally {
      await other.close();
      await closeAppDeps(otherDeps);
    }
  });

  it('when totalTickets changes, then the resize is numbered in the queue and shown as pending; a repeat adds none', async () => {
    const event = await createEvent({ totalTickets: 10 });
    const response = await patch(event.id, { totalTickets: 25 });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json<EventBody>()).toMatchObject({ totalTickets: 10, pendingTotalTickets: 25 });
    expect((await patch(event.id, { totalTickets: 25 })).statusCode).toBe(200);
    const resizes = await db.selectFrom('eventResizes').selectAll().where('eventId', '=', event.id).execute();
    expect(resizes).toMatchObject([{ totalTickets: 25, appliedAt: null, appliedTotal: null }]);
    // Its number comes from the purchase sequence: after every purchase accepted before it.
    const later = await submit(event.id, { userId: 'after-resize' });
    const row = await db
      .selectFrom('purchases')
      .select('seq')
      .where('id', '=', later.purchaseId)
      .executeTakeFirstOrThrow();
    expect(Number(row.seq)).toBeGreaterThan(Number(resizes[0]?.seq));
    // The workers carry it out at its turn.
    await waitFor(
      'the resize to be carried out',
      async () => {
        const read = (await inject({ method: 'GET', url: `/events/${event.id}` })).json<EventBody>();
        return read.pendingTotalTickets === null && read.totalTickets === 25;
      },
      10_000,
    );
    const applied = await db
      .selectFrom('eventResizes')
      .selectAll()
      .where('eventId', '=', event.id)
      .executeTakeFirstOrThrow();
    expect(applied.appliedTotal).toBe(25);
  });

  it('when the total would go below the tickets sold and held, then it is 409 below_sold_and_held with the minimum', async () => {
    const event = await createEvent({ totalTickets: 10, maxPerPurchase: 6 });
    await buy(event.id, { userId: 'big', quantity: 6 });
    const response = await patch(event.id, { totalTickets: 5 });
    expect(response.statusCode).toBe(409);
    expect(response.json()).toEqual({
      code: 'below_sold_and_held',
      message: 'totalTickets cannot be below the 6 tickets sold or held',
    });
    expect((await patch(event.id, { totalTickets: 6 })).statusCode).toBe(200);
  });

  it('when the values are invalid, then they are refused with 400 or 422 and nothing changes', async () => {
    const event = await createEvent({ totalTickets: 10 });
    const holding = await createEvent({ totalTickets: 10, holdSeconds: 60 });
    for (const payload of [{}, { totalTickets: 0 }, { priceCents: -1 }, { name: '' }, { colour: 'red' }]) {
      const response = await patch(event.id, payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json()).toMatchObject({ code: 'invalid_request' });
    }
    const holds = await patch(event.id, { holdSeconds: 60 });
    expect(holds.statusCode).toBe(422);
    expect(holds.json()).toMatchObject({ code: 'invalid_hold_seconds' });
    const noHolds = await patch(holding.id, { holdSeconds: 0 });
    expect(noHolds.json()).toMatchObject({ code: 'invalid_hold_seconds' });
    expect((await patch(holding.id, { holdSeconds: 120 })).json()).toMatchObject({ holdSeconds: 120 });
    const past = await patch(event.id, { salesEndAt: new Date(Date.now() - 60_000).toISOString() });
    expect(past.statusCode).toBe(422);
    expect(past.json()).toMatchObject({ code: 'invalid_sale_window' });
    const start = new Date(Date.now() + 3_600_000);
    const scheduled = await createEvent({ salesStartAt: start.toISOString() });
    const beforeStart = await patch(scheduled.id, {
      salesEndAt: new Date(start.getTime() - 1000).toISOString(),
    });
    expect(beforeStart.json()).toMatchObject({ code: 'invalid_sale_window' });
    expect(await eventRow(event.id)).toMatchObject({ holdSeconds: 0, salesEndAt: null });
  });

  it('when the event is unknown, then it is 404', async () => {
    const response = await patch(MISSING, { name: 'Nobody' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ code: 'not_found', message: 'Event not found' });
  });

  it('when the sale has ended, then the terms still change but the total and the end are 409 sale_ended', async () => {
    const event = await createEvent({ totalTickets: 10 });
    expect((await operate(event.id, 'close')).statusCode).toBe(200);
    expect((await patch(event.id, { name: 'After the end' })).statusCode).toBe(200);
    for (const payload of [{ totalTickets: 20 }, { salesEndAt: inAnHour() }]) {
      const response = await patch(event.id, payload);
      expect(response.statusCode).toBe(409);
      expect(response.json()).toMatchObject({ code: 'sale_ended' });
    }
  });
});

describe('pause, resume, close', () => {
  it('when a sale is paused and resumed, then the view and the row say so, and repeats answer the same', async () => {
    const event = await createEvent();
    const paused = await operate(event.id, 'pause');
    expect(paused.statusCode, paused.body).toBe(200);
    const view = paused.json<EventBody>();
    expect(view.saleState).toBe('paused');
    expect(view.pausedAt).not.toBeNull();
    const again = await operate(event.id, 'pause');
    expect(again.json<EventBody>().pausedAt).toBe(view.pausedAt);
    // Purchases are still accepted while paused, and wait for the resume.
    const waiting = await submit(event.id, { userId: 'during-pause' });
    expect(waiting.status).toBe('queued');
    await sleep(500);
    const undecided = await db
      .selectFrom('purchases')
      .select('status')
      .where('id', '=', waiting.purchaseId)
      .executeTakeFirstOrThrow();
    expect(undecided.status).toBe('queued');
    const metrics = (await inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain(`ticketing_sale_state{event_id="${event.id}",state="paused"} 1`);
    expect(metrics).toContain(`ticketing_sale_state{event_id="${event.id}",state="on_sale"} 0`);
    const resumed = await operate(event.id, 'resume');
    expect(resumed.statusCode).toBe(200);
    expect(resumed.json<EventBody>()).toMatchObject({ saleState: 'on_sale', pausedAt: null });
    expect((await operate(event.id, 'resume')).statusCode).toBe(200);
    expect((await eventRow(event.id)).pausedAt).toBeNull();
    expect((await poll(waiting.purchaseId)).status).toBe('confirmed');
  });

  it('when a paused sale is closed, then it ends now, resumed, with its close numbered; new purchases are 409 sale_ended', async () => {
    const event = await createEvent();
    const accepted = await submit(event.id, { userId: 'before-close' });
    await operate(event.id, 'pause');
    const closed = await operate(event.id, 'close');
    expect(closed.statusCode, closed.body).toBe(200);
    expect(closed.json<EventBody>()).toMatchObject({ saleState: 'ended', pausedAt: null });
    const row = await eventRow(event.id);
    expect(row.salesEndAt).not.toBeNull();
    const before = await db
      .selectFrom('purchases')
      .select('seq')
      .where('id', '=', accepted.purchaseId)
      .executeTakeFirstOrThrow();
    expect(Number(row.closeSeq)).toBeGreaterThan(Number(before.seq));
    expect((await operate(event.id, 'close')).statusCode).toBe(200);
    expect((await eventRow(event.id)).closeSeq).toBe(row.closeSeq);
    const late = await inject({
      method: 'POST',
      url: `/events/${event.id}/purchases`,
      payload: { userId: 'late' },
    });
    expect(late.statusCode).toBe(409);
    expect(late.json()).toMatchObject({ code: 'sale_ended' });
    const pause = await operate(event.id, 'pause');
    expect(pause.statusCode).toBe(409);
    expect(pause.json()).toMatchObject({ code: 'sale_ended' });
  });

  it('when a sale is closed before its start, then its start moves before the end and it is ended', async () => {
    const event = await createEvent({ salesStartAt: inAnHour() });
    const closed = await operate(event.id, 'close');
    expect(closed.statusCode, closed.body).toBe(200);
    expect(closed.json<EventBody>().saleState).toBe('ended');
    const row = await eventRow(event.id);
    expect(row.salesStartAt?.getTime()).toBeLessThan(row.salesEndAt?.getTime() ?? 0);
  });

  it('when the event is unknown, then each is 404', async () => {
    for (const operation of ['pause', 'resume', 'close'] as const)
      expect((await operate(MISSING, operation)).statusCode).toBe(404);
    expect((await cancelEvent(MISSING)).statusCode).toBe(404);
  });
});

describe('cancelling an event', () => {
  it('when an event is cancelled, then it is 202 with its cancellation, a repeat keeps the first reason, and every other operation is 409 event_cancelled', async () => {
    const event = await createEvent();
    const response = await cancelEvent(event.id, 'The venue flooded');
    expect(response.statusCode, response.body).toBe(202);
    const view = response.json<EventBody>();
    expect(view).toMatchObject({
      saleState: 'cancelled',
      cancellation: { reason: 'The venue flooded', finishedAt: null },
    });
    const repeat = await cancelEvent(event.id, 'Another reason');
    expect(repeat.statusCode).toBe(202);
    expect(repeat.json<EventBody>().cancellation).toEqual(view.cancellation);
    expect(await eventRow(event.id)).toMatchObject({ cancellationReason: 'The venue flooded' });

    for (const attempt of [
      operate(event.id, 'pause'),
      operate(event.id, 'resume'),
      operate(event.id, 'close'),
      patch(event.id, { name: 'Too late' }),
      inject({ method: 'POST', url: `/events/${event.id}/purchases`, payload: { userId: 'late' } }),
    ]) {
      const refused = await attempt;
      expect(refused.statusCode, refused.body).toBe(409);
      expect(refused.json()).toEqual({ code: 'event_cancelled', message: 'This event is cancelled' });
    }
  });

  it('when its cancellation is carried out by the workers, then a repeat is 200 and shows it finished', async () => {
    const event = await createEvent();
    await system.stopWorker();
    const accepted = await submit(event.id, { userId: 'cancelled-buyer' });
    try {
      expect((await cancelEvent(event.id)).statusCode).toBe(202);
      const left = (await inject({ method: 'GET', url: '/metrics' })).body;
      expect(left).toContain(`ticketing_cancellation_purchases_left{event_id="${event.id}"} 1`);
    } finally {
      await system.startWorker();
    }
    const done = await waitForCancellation(event.id);
    expect(done.cancellation?.finishedAt).not.toBeNull();
    const repeat = await cancelEvent(event.id);
    expect(repeat.statusCode).toBe(200);
    const metrics = (await inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain(`ticketing_sale_state{event_id="${event.id}",state="cancelled"} 1`);
    expect(metrics).toContain(`ticketing_cancellation_purchases_left{event_id="${event.id}"} 0`);
    const purchase = await db
      .selectFrom('purchases')
      .select(['status', 'reason'])
      .where('id', '=', accepted.purchaseId)
      .executeTakeFirstOrThrow();
    expect(purchase).toEqual({ status: 'cancelled', reason: 'event_cancelled' });
  });

  it('when the reason is missing, empty or too long, then it is 400', async () => {
    const event = await createEvent();
    for (const payload of [{}, { reason: '' }, { reason: 'x'.repeat(501) }, { reason: 'ok', extra: 1 }]) {
      const response = await inject({ method: 'POST', url: `/events/${event.id}/cancel`, payload });
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
    }
    expect((await eventRow(event.id)).cancelledAt).toBeNull();
  });

  it('when a hold of a cancelled event is confirmed, then it is 409 event_cancelled and no booking is made', async () => {
    const event = await createEvent({ holdSeconds: 600 });
    const held = await buy(event.id, { userId: 'holder' });
    expect(held.status).toBe('held');
    await cancelEvent(event.id);
    const response = await inject({
      method: 'POST',
      url: `/purchases/${held.purchaseId}/confirm`,
      payload: { paymentReference: 'psp-1' },
    });
    expect(response.statusCode).toBe(409);
    expect(response.json()).toEqual({ code: 'event_cancelled', message: 'This event is cancelled' });
    expect(
      await db.selectFrom('bookings').selectAll().where('purchaseId', '=', held.purchaseId).execute(),
    ).toEqual([]);
  });

  it("when an event is cancelled, then the report's refund is what its bookings were paid, and its cancellations are not the buyers'", async () => {
    const event = await createEvent({ totalTickets: 10, priceCents: 1000, maxPerPurchase: 5 });
    const first = await buy(event.id, { userId: 'first', quantity: 2 });
    await patch(event.id, { priceCents: 2500 });
    const second = await buy(event.id, { userId: 'second', quantity: 3 });
    const withdrawn = await buy(event.id, { userId: 'withdrawn', quantity: 1 });
    expect([first.status, second.status, withdrawn.status]).toEqual(['confirmed', 'confirmed', 'confirmed']);
    const cancelResponse = await inject({ method: 'POST', url: `/purchases/${withdrawn.purchaseId}/cancel` });
    expect(cancelResponse.statusCode).toBe(202);
    await poll(withdrawn.purchaseId, (body) => body.status === 'cancelled');
    const report = async () => (await inject({ method: 'GET', url: `/events/${event.id}/report` })).json();
    expect(await report()).toMatchObject({ refundDueCents: 0, eventCancelled: 0, cancellations: 1 });

    await cancelEvent(event.id);
    // Due from the moment of the cancellation, whether or not the workers got to each: 2 × 10.00 + 3 × 25.00.
    expect(await report()).toMatchObject({ refundDueCents: 9500, cancellations: 1 });
    await waitForCancellation(event.id);
    expect(await report()).toMatchObject({
      refundDueCents: 9500,
      eventCancelled: 2,
      cancellations: 1,
      ticketsSold: 0,
      revenueCents: 0,
    });
    // The refund is what the cancelled bookings were paid.
    const refunded = await db
      .selectFrom('bookings as b')
      .innerJoin('purchases as p', 'p.id', 'b.purchaseId')
      .select(['b.quantity', 'b.unitPriceCents'])
      .where('b.eventId', '=', event.id)
      .where('p.reason', '=', 'event_cancelled')
      .where('b.cancelledAt', 'is not', null)
      .execute();
    expect(refunded.reduce((sum, row) => sum + row.quantity * row.unitPriceCents, 0)).toBe(9500);
    const page = await inject({ method: 'GET', url: `/reports/events?limit=100` });
    expect(page.statusCode).toBe(200);
    const items = page.json<{ items: { eventId: string; refundDueCents: number }[] }>().items;
    expect(items.find((item) => item.eventId === event.id)?.refundDueCents).toBe(9500);
  });
});

describe('webhooks of running a sale', () => {
  const receivers: WebhookReceiver[] = [];
  afterAll(async () => {
    await Promise.all(receivers.map((receiver) => receiver.close()));
  });

  it('when an operator changes a sale, then event.updated, event.paused, event.resumed and event.cancelled are recorded with the event', async () => {
    const receiver = await WebhookReceiver.start({ failAttempts: 0 });
    receivers.push(receiver);
    const registered = await inject({
      method: 'POST',
      url: '/webhooks',
      payload: {
        url: receiver.url,
        events: ['event.updated', 'event.paused', 'event.resumed', 'event.cancelled'],
      },
    });
    expect(registered.statusCode, registered.body).toBe(201);
    const event = await createEvent();
    await patch(event.id, { name: 'Webhooked' });
    await patch(event.id, { name: 'Webhooked' });
    await operate(event.id, 'pause');
    await operate(event.id, 'pause');
    await operate(event.id, 'resume');
    await cancelEvent(event.id, 'Storm');
    await cancelEvent(event.id, 'Storm');
    const messages = await db
      .selectFrom('webhookMessages')
      .select(['type', 'body'])
      .where('subjectId', '=', event.id)
      .orderBy('seq')
      .execute();
    // Repeats change nothing, so they record nothing.
    expect(messages.map((message) => message.type)).toEqual([
      'event.updated',
      'event.paused',
      'event.resumed',
      'event.cancelled',
    ]);
    const bodies = messages.map((message) => JSON.parse(message.body) as { type: string; data: EventBody });
    expect(bodies[0]?.data).toMatchObject({ id: event.id, name: 'Webhooked' });
    expect(bodies[1]?.data).toMatchObject({ saleState: 'paused' });
    expect(bodies[3]?.data).toMatchObject({ saleState: 'cancelled', cancellation: { reason: 'Storm' } });
  });
});
