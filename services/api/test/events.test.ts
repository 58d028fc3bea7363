import { describe, expect, it } from 'vitest';
import { httpHelpers } from './support/http.js';
import { useTestSystem } from './support/test-system.js';

const system = await useTestSystem();
const { inject, createEvent, buy } = httpHelpers(() => system);

describe('events', () => {
  it('when an event is created, then it is answered with defaults and stored', async () => {
    const response = await inject({
      method: 'POST',
      url: '/events',
      payload: { name: 'Opening night', totalTickets: 50, priceCents: 4500 },
    });
    expect(response.statusCode).toBe(201);
    const event = response.json();
    expect(event).toMatchObject({
      name: 'Opening night',
      totalTickets: 50,
      availableTickets: 50,
      priceCents: 4500,
      currency: 'USD',
      maxPerPurchase: 10,
      holdSeconds: 0,
    });
    expect(new Date(event.createdAt).toString()).not.toBe('Invalid Date');
    const row = await system.deps.db
      .selectFrom('events')
      .selectAll()
      .where('id', '=', event.id)
      .executeTakeFirst();
    expect(row).toMatchObject({
      name: 'Opening night',
      totalTickets: 50,
      soldTickets: 0,
      heldTickets: 0,
      holdSeconds: 0,
      currency: 'USD',
    });
  });

  it('when an event is read, then it shows live availability; an unknown id is a 404', async () => {
    const event = await createEvent({ totalTickets: 5, currency: 'EUR', maxPerPurchase: 3 });
    await buy(event.id, { userId: 'reader', quantity: 3 });
    const response = await inject({ method: 'GET', url: `/events/${event.id}` });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ availableTickets: 2, currency: 'EUR', maxPerPurchase: 3 });

    const missing = await inject({ method: 'GET', url: '/events/00000000-0000-4000-8000-000000000000' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ code: 'not_found', message: 'Event not found' });
  });

  it('when events are listed page by page, then each appears exactly once in creation order', async () => {
    const created: string[] = [];
    for (let index = 0; index < 5; index += 1)
      created.push((await createEvent({ name: `Page ${index}` })).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor === null ? '?limit=2' : `?limit=2&cursor=${cursor}`;
      const response = await inject({ method: 'GET', url: `/events${query}` });
      expect(response.statusCode).toBe(200);
      const page = response.json<{ items: { id: string }[]; nextCursor: string | null }>();
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(new Set(seen).size).toBe(seen.length);
    const ours = seen.filter((id) => created.includes(id));
    expect(ours).toEqual(created);
    const total = await system.deps.db
      .selectFrom('events')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .executeTakeFirstOrThrow();
    expect(seen.length).toBe(total.count);
  });

  it('when purchases are decided, then the status shows sold, available and waiting counts', async () => {
    const event = await createEvent({ totalTickets: 2 });
    await buy(event.id, { userId: 's1', quantity: 2 });
    await buy(event.id, { userId: 's2' });
    await buy(event.id, { userId: 's3' });
    const response = await inject({ method: 'GET', url: `/events/${event.id}/status` });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      eventId: event.id,
      totalTickets: 2,
      availableTickets: 0,
      soldTickets: 2,
      heldTickets: 0,
      waitlistCount: 2,
      queueDepth: 0,
      prequeueSize: 0,
      salesStartAt: null,
      salesEndAt: null,
      preQueueOpensAt: null,
      saleState: 'on_sale',
    });
  });
});

describe('health', () => {
  it('when the process is up, then /health is ok; with Postgres and Redis up, /ready is ok', async () => {
    expect((await inject({ method: 'GET', url: '/health' })).json()).toEqual({ status: 'ok' });
    const ready = await inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({
      status: 'ok',
      postgresPrimary: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
    });
  });
});
