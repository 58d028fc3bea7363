import { createRedis, parsePendingEvents, pendingEventsChannel } from '@ticketing/shared';
import { describe, expect, it } from 'vitest';
import { httpHelpers } from './support/http.js';
import { useTestSystem } from './support/test-system.js';

const system = await useTestSystem();
const { inject, createEvent, submit, poll, buy, cancel } = httpHelpers(() => system);
const db = () => system.deps.db;
const soldTickets = async (eventId: string) =>
  (await db().selectFrom('events').select('soldTickets').where('id', '=', eventId).executeTakeFirstOrThrow())
    .soldTickets;

describe('submitting purchases', () => {
  it('when a purchase is accepted, then it is 202 queued with a Location and a queued row', async () => {
    const event = await createEvent();
    const response = await inject({
      method: 'POST',
      url: `/events/${event.id}/purchases`,
      payload: { userId: 'loc', quantity: 2 },
    });
    expect(response.statusCode).toBe(202);
    const body = response.json();
    expect(body).toMatchObject({
      eventId: event.id,
      userId: 'loc',
      quantity: 2,
      cancellationRequested: false,
    });
    expect(response.headers.location).toBe(`/purchases/${body.purchaseId}`);
    const row = await db()
      .selectFrom('purchases')
      .selectAll()
      .where('id', '=', body.purchaseId)
      .executeTakeFirst();
    expect(row).toMatchObject({ eventId: event.id, userId: 'loc', quantity: 2, joinWaitlist: true });
  });

  it('when tickets run out, then later purchases wait in FIFO order or are rejected if they will not wait', async () => {
    const event = await createEvent({ totalTickets: 3 });
    const first = await buy(event.id, { userId: 'a', quantity: 2 });
    const second = await buy(event.id, { userId: 'b', quantity: 2 });
    const third = await buy(event.id, { userId: 'c', quantity: 1 });
    const fourth = await buy(event.id, { userId: 'd', quantity: 1, joinWaitlist: false });
    expect(first).toMatchObject({ status: 'confirmed' });
    expect(first.bookingId).toBeDefined();
    // No partial fill for b, and c may not overtake b even though one ticket is left.
    expect(second).toMatchObject({ status: 'waitlisted', waitlistPosition: 1 });
    expect(third).toMatchObject({ status: 'waitlisted', waitlistPosition: 2 });
    expect(fourth).toMatchObject({ status: 'rejected', reason: 'sold_out' });
    expect(await soldTickets(event.id)).toBe(2);
    const bookings = await db().selectFrom('bookings').selectAll().where('eventId', '=', event.id).execute();
    expect(bookings.map((booking) => [booking.purchaseId, booking.quantity])).toEqual([
      [first.purchaseId, 2],
    ]);
    const waiting = await db()
      .selectFrom('waitlistEntries')
      .select('purchaseId')
      .where('eventId', '=', event.id)
      .orderBy('lineNo')
      .execute();
    expect(waiting.map((entry) => entry.purchaseId)).toEqual([second.purchaseId, third.purchaseId]);
  });

  it('when a user already holds a purchase for the event, then another is rejected as a duplicate', async () => {
    const event = await createEvent();
    await buy(event.id, { userId: 42 });
    const again = await buy(event.id, { userId: '42' });
    expect(again).toMatchObject({ status: 'rejected', reason: 'duplicate_purchase', userId: '42' });
    expect(await soldTickets(event.id)).toBe(1);
  });

  it('when retried with the same Idempotency-Key and body, then the same purchase comes back', async () => {
    const event = await createEvent();
    const headers = { 'idempotency-key': 'order-1' };
    const first = await submit(event.id, { userId: 'idem', quantity: 2 }, headers);
    const retry = await submit(event.id, { userId: 'idem', quantity: 2 }, headers);
    expect(retry.purchaseId).toBe(first.purchaseId);
    const rows = await db().selectFrom('purchases').select('id').where('eventId', '=', event.id).execute();
    expect(rows).toHaveLength(1);

    const conflicting = await inject({
      method: 'POST',
      url: `/events/${event.id}/purchases`,
      payload: { userId: 'idem', quantity: 3 },
      headers,
    });
    expect(conflicting.statusCode).toBe(422);
    expect(conflicting.json()).toMatchObject({ code: 'idempotency_key_reused' });
    expect(
      await db().selectFrom('purchases').select('id').where('eventId', '=', event.id).execute(),
    ).toHaveLength(1);
  });

  it('when retries with one key race each other, then exactly one purchase is created', async () => {
    const event = await createEvent();
    const responses = await Promise.all(
      Array.from({ length: 10 }, () =>
        inject({
          method: 'POST',
          url: `/events/${event.id}/purchases`,
          payload: { userId: 'racer' },
          headers: { 'idempotency-key': 'same' },
        }),
      ),
    );
    expect(responses.map((response) => response.statusCode)).toEqual(Array(10).fill(202));
    expect(new Set(responses.map((response) => response.json().purchaseId)).size).toBe(1);
  });

  it('when quantity exceeds the event limit or the event is unknown, then nothing is stored', async () => {
    const event = await createEvent({ maxPerPurchase: 2 });
    const over = await inject({
      method: 'POST',
      url: `/events/${event.id}/purchases`,
      payload: { userId: 'greedy', quantity: 3 },
    });
    expect(over.statusCode).toBe(422);
    expect(over.json()).toMatchObject({ code: 'quantity_over_limit' });
    const unknown = await inject({
      method: 'POST',
      url: '/events/00000000-0000-4000-8000-000000000000/purchases',
      payload: { userId: 'lost' },
    });
    expect(unknown.statusCode).toBe(404);
    expect(
      await db().selectFrom('purchases').select('id').where('userId', 'in', ['greedy', 'lost']).execute(),
    ).toEqual([]);
  });

  it('when polling an unknown purchase, then it is a 404 that reveals nothing', async () => {
    const response = await inject({ method: 'GET', url: '/purchases/00000000-0000-4000-8000-000000000000' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ code: 'not_found', message: 'Purchase not found' });
  });
});

describe('cancelling', () => {
  it('when a confirmed purchase is cancelled, then its tickets go to the waiting list strictly in order', async () => {
    const event = await createEvent({ totalTickets: 3 });
    const holder = await buy(event.id, { userId: 'holder', quantity: 3 });
    const big = await buy(event.id, { userId: 'big', quantity: 2 });
    const small = await buy(event.id, { userId: 'small', quantity: 1 });
    const tail = await buy(event.id, { userId: 'tail', quantity: 1 });

    expect(await cancel(holder.purchaseId)).toMatchObject({
      status: 'cancelled',
      cancellationRequested: true,
    });
    // 3 free tickets: big (2) then small (1) are promoted; tail stays first in line.
    expect(await poll(big.purchaseId)).toMatchObject({ status: 'confirmed' });
    expect(await poll(small.purchaseId)).toMatchObject({ status: 'confirmed' });
    expect(await poll(tail.purchaseId)).toMatchObject({ status: 'waitlisted', waitlistPosition: 1 });
    expect(await soldTickets(event.id)).toBe(3);
    const booking = await db()
      .selectFrom('bookings')
      .selectAll()
      .where('purchaseId', '=', holder.purchaseId)
      .executeTakeFirstOrThrow();
    expect(booking.cancelledAt).not.toBeNull();
  });

  it('when the head of the line does not fit, then it blocks those behind until it leaves', async () => {
    const event = await createEvent({ totalTickets: 2 });
    const one = await buy(event.id, { userId: 'one', quantity: 1 });
    await buy(event.id, { userId: 'two', quantity: 1 });
    const head = await buy(event.id, { userId: 'head', quantity: 2 });
    const behind = await buy(event.id, { userId: 'behind', quantity: 1 });

    await cancel(one.purchaseId);
    expect(await poll(head.purchaseId)).toMatchObject({ status: 'waitlisted', waitlistPosition: 1 });
    expect(await poll(behind.purchaseId)).toMatchObject({ status: 'waitlisted', waitlistPosition: 2 });

    await cancel(head.purchaseId);
    expect(await poll(behind.purchaseId)).toMatchObject({ status: 'confirmed' });
    expect(await soldTickets(event.id)).toBe(2);
    expect(
      await db().selectFrom('waitlistEntries').select('purchaseId').where('eventId', '=', event.id).execute(),
    ).toEqual([]);
  });

  it('when a waitlisted purchase is cancelled, then those behind move up', async () => {
    const event = await createEvent({ totalTickets: 1 });
    await buy(event.id, { userId: 'w0' });
    const first = await buy(event.id, { userId: 'w1' });
    const second = await buy(event.id, { userId: 'w2' });
    await cancel(first.purchaseId);
    expect(await poll(second.purchaseId)).toMatchObject({ status: 'waitlisted', waitlistPosition: 1 });
  });

  it('when cancelled twice, then the second is a 409; a rejected purchase cannot be cancelled', async () => {
    const event = await createEvent({ totalTickets: 1 });
    const bought = await buy(event.id, { userId: 'twice' });
    await cancel(bought.purchaseId);
    const again = await inject({ method: 'POST', url: `/purchases/${bought.purchaseId}/cancel` });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'already_cancelled' });

    await buy(event.id, { userId: 'x' });
    const rejected = await buy(event.id, { userId: 'y', joinWaitlist: false });
    const refused = await inject({ method: 'POST', url: `/purchases/${rejected.purchaseId}/cancel` });
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ code: 'not_cancellable' });
  });

  it('when a purchase is cancelled while still queued, then it is decided first and then cancelled', async () => {
    const event = await createEvent({ totalTickets: 5 });
    const accepted = await submit(event.id, { userId: 'quick', quantity: 2 });
    const response = await inject({
      method: 'POST',
      url: `/purchases/${accepted.purchaseId}/cancel`,
      headers: { 'content-type': 'application/json' },
      payload: '',
    });
    expect(response.statusCode).toBe(202);
    expect(await poll(accepted.purchaseId, (body) => body.status === 'cancelled')).toMatchObject({
      status: 'cancelled',
    });
    expect(await soldTickets(event.id)).toBe(0);
  });

  it('when a cancellation is requested, then its event is announced, so an idle worker starts at once', async () => {
    const event = await createEvent();
    const bought = await buy(event.id, { userId: 'wakes' });
    const subscriber = createRedis(system.config.redisUrl, 'subscriber');
    try {
      const announced: string[] = [];
      subscriber.on('message', (_channel: string, message: string) =>
        announced.push(...parsePendingEvents(message)),
      );
      await subscriber.subscribe(pendingEventsChannel(system.config.queuePrefix));
      await cancel(bought.purchaseId);
      await expect.poll(() => announced).toContain(event.id);
    } finally {
      subscriber.disconnect();
    }
  });

  it('when a cancellation is pending, then a long-poll waits for it rather than answering the earlier decision', async () => {
    const event = await createEvent();
    const bought = await buy(event.id, { userId: 'pending' });
    await system.stopWorker();
    try {
      const requested = await inject({ method: 'POST', url: `/purchases/${bought.purchaseId}/cancel` });
      expect(requested.statusCode).toBe(202);
      const started = Date.now();
      const waited = await inject({ method: 'GET', url: `/purchases/${bought.purchaseId}?waitMs=600` });
      expect(Date.now() - started).toBeGreaterThanOrEqual(550);
      expect(waited.json()).toMatchObject({ status: 'confirmed', cancellationRequested: true });
    } finally {
      await system.startWorker();
    }
    const settled = await inject({ method: 'GET', url: `/purchases/${bought.purchaseId}?waitMs=10000` });
    expect(settled.json()).toMatchObject({ status: 'cancelled' });
  });

  it('when an unknown purchase is cancelled, then it is a 404', async () => {
    const response = await inject({
      method: 'POST',
      url: '/purchases/00000000-0000-4000-8000-000000000000/cancel',
    });
    expect(response.statusCode).toBe(404);
  });
});

describe('reports', () => {
  it('when bookings are confirmed and cancelled, then the report counts what is sold at the price paid', async () => {
    const event = await createEvent({ totalTickets: 4, priceCents: 2500, currency: 'EUR' });
    const a = await buy(event.id, { userId: 'r1', quantity: 2 });
    await buy(event.id, { userId: 'r2', quantity: 2 });
    await buy(event.id, { userId: 'r3', quantity: 3 });
    await cancel(a.purchaseId);

    const response = await inject({ method: 'GET', url: `/events/${event.id}/report` });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      eventId: event.id,
      ticketsSold: 2,
      revenueCents: 5000,
      currency: 'EUR',
      bookings: 1,
      cancellations: 1,
      waitlisted: 1,
      holdsExpired: 0,
      eventCancelled: 0,
      refundDueCents: 0,
    });

    const items: { eventId: string }[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor === null ? '' : `?cursor=${cursor}`;
      const page = await inject({ method: 'GET', url: `/reports/events${query}` });
      expect(page.statusCode).toBe(200);
      const body = page.json<{ items: { eventId: string }[]; nextCursor: string | null }>();
      items.push(...body.items);
      cursor = body.nextCursor;
    } while (cursor !== null);
    expect(items.find((item) => item.eventId === event.id)).toEqual(response.json());
    const events = await db().selectFrom('events').select('id').execute();
    expect(items).toHaveLength(events.length);
  });
});
