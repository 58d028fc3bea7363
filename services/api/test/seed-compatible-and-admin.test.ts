import { describe, expect, it } from 'vitest';
import { httpHelpers } from './support/http.js';
import { useTestSystem } from './support/test-system.js';

const ADMIN_TOKEN = 'a-very-secret-admin-token';
const system = await useTestSystem({ ADMIN_TOKEN });
const { inject } = httpHelpers(() => system);
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const countEvents = async () =>
  (
    await system.deps.db
      .selectFrom('events')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .executeTakeFirstOrThrow()
  ).count;

describe('admin token', () => {
  it('when creating events without the right bearer token, then it is a 401 and nothing is created', async () => {
    const before = await countEvents();
    for (const headers of [
      {},
      { authorization: 'Bearer wrong-token-of-some-length' },
      { authorization: ADMIN_TOKEN },
    ]) {
      for (const [url, payload] of [
        ['/events', { name: 'x', totalTickets: 1, priceCents: 0 }],
        ['/initialize', { name: 'x', totalTickets: 1 }],
      ] as const) {
        const response = await inject({ method: 'POST', url, payload, headers });
        expect(response.statusCode).toBe(401);
        expect(response.json()).toMatchObject({ code: 'unauthorized' });
      }
    }
    expect(await countEvents()).toBe(before);
  });

  it('when the token is right, then events are created; reading stays open', async () => {
    const created = await inject({
      method: 'POST',
      url: '/events',
      payload: { name: 'Guarded', totalTickets: 1, priceCents: 0 },
      headers: admin,
    });
    expect(created.statusCode).toBe(201);
    expect((await inject({ method: 'GET', url: `/events/${created.json().id}` })).statusCode).toBe(200);
  });
});

describe('seed-compatible routes', () => {
  it('when a client of the original API books and cancels, then it gets decisions, not just receipts', async () => {
    const init = await inject({
      method: 'POST',
      url: '/initialize',
      payload: { name: 'Seed-compatible show', totalTickets: 1 },
      headers: admin,
    });
    expect(init.statusCode).toBe(201);
    const eventId = init.json().id as string;

    const first = await inject({ method: 'POST', url: '/book', payload: { userId: 1, eventId } });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ status: 'confirmed', userId: '1' });
    const second = await inject({ method: 'POST', url: '/book', payload: { userId: 'two', eventId } });
    expect(second.json()).toMatchObject({ status: 'waitlisted', waitlistPosition: 1 });

    const status = await inject({ method: 'GET', url: `/status/${eventId}` });
    expect(status.json()).toMatchObject({ availableTickets: 0, waitlistCount: 1 });

    const cancelled = await inject({ method: 'POST', url: '/cancel', payload: { userId: 1, eventId } });
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json()).toMatchObject({ status: 'cancelled' });
    const promoted = await inject({
      method: 'GET',
      url: `/purchases/${second.json().purchaseId}?waitMs=5000`,
    });
    expect(promoted.json()).toMatchObject({ status: 'confirmed' });
    expect((await inject({ method: 'GET', url: `/status/${eventId}` })).json()).toMatchObject({
      availableTickets: 0,
      soldTickets: 1,
      waitlistCount: 0,
    });

    const nothing = await inject({ method: 'POST', url: '/cancel', payload: { userId: 'nobody', eventId } });
    expect(nothing.statusCode).toBe(404);
    const rows = await system.deps.db
      .selectFrom('purchases')
      .select(['userId', 'status'])
      .where('eventId', '=', eventId)
      .orderBy('seq')
      .execute();
    expect(rows).toEqual([
      { userId: '1', status: 'cancelled' },
      { userId: 'two', status: 'confirmed' },
    ]);
  });
});
