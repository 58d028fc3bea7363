import type { InjectOptions } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { httpHelpers } from './support/http.js';
import { useTestSystem } from './support/test-system.js';

const system = await useTestSystem();
const { inject, createEvent, buy } = httpHelpers(() => system);
let eventId: string;
let purchaseId: string;
beforeAll(async () => {
  eventId = (await createEvent({ totalTickets: 5, maxPerPurchase: 2 })).id;
  // Decided before the cases run, so the worker changes no rows while they count them.
  purchaseId = (await buy(eventId, { userId: 'base' })).purchaseId;
});

async function rowCounts() {
  const count = async (table: 'events' | 'purchases' | 'bookings') =>
    (
      await system.deps.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .executeTakeFirstOrThrow()
    ).count;
  return {
    events: await count('events'),
    purchases: await count('purchases'),
    bookings: await count('bookings'),
  };
}

const json = (payload: string) => ({ payload, headers: { 'content-type': 'application/json' } });

const cases: [string, () => InjectOptions, number][] = [
  [
    'event with a string totalTickets',
    () => ({ method: 'POST', url: '/events', payload: { name: 'x', totalTickets: '10', priceCents: 1 } }),
    400,
  ],
  [
    'event with zero tickets',
    () => ({ method: 'POST', url: '/events', payload: { name: 'x', totalTickets: 0, priceCents: 1 } }),
    400,
  ],
  [
    'event with a huge ticket count',
    () => ({ method: 'POST', url: '/events', payload: { name: 'x', totalTickets: 1e12, priceCents: 1 } }),
    400,
  ],
  [
    'event with a negative price',
    () => ({ method: 'POST', url: '/events', payload: { name: 'x', totalTickets: 1, priceCents: -1 } }),
    400,
  ],
  [
    'event with a fractional price',
    () => ({ method: 'POST', url: '/events', payload: { name: 'x', totalTickets: 1, priceCents: 1.5 } }),
    400,
  ],
  [
    'event with an unknown field',
    () => ({
      method: 'POST',
      url: '/events',
      payload: { name: 'x', totalTickets: 1, priceCents: 1, vip: true },
    }),
    400,
  ],
  [
    'event without a name',
    () => ({ method: 'POST', url: '/events', payload: { totalTickets: 1, priceCents: 1 } }),
    400,
  ],
  [
    'event with a blank name',
    () => ({ method: 'POST', url: '/events', payload: { name: '   ', totalTickets: 1, priceCents: 1 } }),
    400,
  ],
  [
    'event with a lowercase currency',
    () => ({
      method: 'POST',
      url: '/events',
      payload: { name: 'x', totalTickets: 1, priceCents: 1, currency: 'usd' },
    }),
    400,
  ],
  [
    'event holding longer than an hour',
    () => ({
      method: 'POST',
      url: '/events',
      payload: { name: 'x', totalTickets: 1, priceCents: 1, holdSeconds: 3601 },
    }),
    400,
  ],
  [
    'event with a negative hold',
    () => ({
      method: 'POST',
      url: '/events',
      payload: { name: 'x', totalTickets: 1, priceCents: 1, holdSeconds: -1 },
    }),
    400,
  ],
  [
    'event with a fractional hold',
    () => ({
      method: 'POST',
      url: '/events',
      payload: { name: 'x', totalTickets: 1, priceCents: 1, holdSeconds: 1.5 },
    }),
    400,
  ],
  ['event as an array', () => ({ method: 'POST', url: '/events', payload: [1, 2] }), 400],
  ['non-JSON body', () => ({ method: 'POST', url: '/events', ...json('{"name": ') }), 400],
  ['empty JSON body', () => ({ method: 'POST', url: '/events', ...json('') }), 400],
  [
    'text/plain body',
    () => ({ method: 'POST', url: '/events', payload: 'name=x', headers: { 'content-type': 'text/plain' } }),
    415,
  ],
  [
    'body over 1 MiB',
    () => ({
      method: 'POST',
      url: '/events',
      ...json(JSON.stringify({ name: 'x'.repeat(1_100_000), totalTickets: 1, priceCents: 1 })),
    }),
    413,
  ],
  [
    'prototype pollution',
    () => ({
      method: 'POST',
      url: '/events',
      ...json('{"name":"x","totalTickets":1,"priceCents":1,"__proto__":{"admin":true}}'),
    }),
    400,
  ],
  [
    'purchase with a string quantity',
    () => ({ method: 'POST', url: `/events/${eventId}/purchases`, payload: { userId: 'u', quantity: '1' } }),
    400,
  ],
  [
    'purchase with quantity 0',
    () => ({ method: 'POST', url: `/events/${eventId}/purchases`, payload: { userId: 'u', quantity: 0 } }),
    400,
  ],
  [
    'purchase over the event limit',
    () => ({ method: 'POST', url: `/events/${eventId}/purchases`, payload: { userId: 'u', quantity: 3 } }),
    422,
  ],
  [
    'purchase with a negative user id',
    () => ({ method: 'POST', url: `/events/${eventId}/purchases`, payload: { userId: -1 } }),
    400,
  ],
  [
    'purchase with an object user id',
    () => ({ method: 'POST', url: `/events/${eventId}/purchases`, payload: { userId: { id: 1 } } }),
    400,
  ],
  [
    'purchase with an empty user id',
    () => ({ method: 'POST', url: `/events/${eventId}/purchases`, payload: { userId: '' } }),
    400,
  ],
  [
    'purchase with a string joinWaitlist',
    () => ({
      method: 'POST',
      url: `/events/${eventId}/purchases`,
      payload: { userId: 'u', joinWaitlist: 'yes' },
    }),
    400,
  ],
  [
    'purchase with an unknown field',
    () => ({ method: 'POST', url: `/events/${eventId}/purchases`, payload: { userId: 'u', price: 0 } }),
    400,
  ],
  [
    'purchase with a bad Idempotency-Key',
    () => ({
      method: 'POST',
      url: `/events/${eventId}/purchases`,
      payload: { userId: 'u' },
      headers: { 'idempotency-key': 'has space' },
    }),
    400,
  ],
  [
    'purchase for a malformed event id',
    () => ({ method: 'POST', url: '/events/not-a-uuid/purchases', payload: { userId: 'u' } }),
    400,
  ],
  [
    'purchase for an unknown event',
    () => ({
      method: 'POST',
      url: '/events/00000000-0000-4000-8000-000000000000/purchases',
      payload: { userId: 'u' },
    }),
    404,
  ],
  ['event with a malformed id', () => ({ method: 'GET', url: '/events/123' }), 400],
  ['purchase with a malformed id', () => ({ method: 'GET', url: '/purchases/123' }), 400],
  ['waitMs too large', () => ({ method: 'GET', url: `/purchases/${purchaseId}?waitMs=999999` }), 400],
  ['waitMs not a number', () => ({ method: 'GET', url: `/purchases/${purchaseId}?waitMs=soon` }), 400],
  ['limit of zero', () => ({ method: 'GET', url: '/events?limit=0' }), 400],
  ['limit too large', () => ({ method: 'GET', url: '/events?limit=1000' }), 400],
  ['malformed cursor', () => ({ method: 'GET', url: '/events?cursor=abc' }), 400],
  [
    'cursor of no event',
    () => ({ method: 'GET', url: '/events?cursor=00000000-0000-4000-8000-000000000000' }),
    400,
  ],
  ['unknown query parameter', () => ({ method: 'GET', url: '/events?sort=name' }), 400],
  [
    'cancel with a body field',
    () => ({ method: 'POST', url: `/purchases/${purchaseId}/cancel`, payload: { reason: 'x' } }),
    400,
  ],
  [
    'confirm with an empty payment reference',
    () => ({ method: 'POST', url: `/purchases/${purchaseId}/confirm`, payload: { paymentReference: '' } }),
    400,
  ],
  [
    'confirm with a numeric payment reference',
    () => ({ method: 'POST', url: `/purchases/${purchaseId}/confirm`, payload: { paymentReference: 42 } }),
    400,
  ],
  [
    'confirm with a payment reference over 200 characters',
    () => ({
      method: 'POST',
      url: `/purchases/${purchaseId}/confirm`,
      payload: { paymentReference: 'p'.repeat(201) },
    }),
    400,
  ],
  [
    'confirm with an unknown field',
    () => ({ method: 'POST', url: `/purchases/${purchaseId}/confirm`, payload: { amount: 10 } }),
    400,
  ],
  ['confirm of a malformed id', () => ({ method: 'POST', url: '/purchases/123/confirm' }), 400],
  [
    'confirm of an unknown purchase',
    () => ({ method: 'POST', url: '/purchases/00000000-0000-4000-8000-000000000000/confirm' }),
    404,
  ],
  [
    'seed-compatible book with a bad event id',
    () => ({ method: 'POST', url: '/book', payload: { userId: 1, eventId: 'x' } }),
    400,
  ],
  ['unknown route', () => ({ method: 'GET', url: '/nope' }), 404],
];

describe('bad input', () => {
  it.each(cases)(
    'when sent %s, then it is a clear 4xx and nothing changes',
    async (_name, request, status) => {
      const before = await rowCounts();
      const response = await inject(request());
      expect(response.statusCode, response.body).toBe(status);
      const body = response.json();
      expect(Object.keys(body).sort()).toEqual(['code', 'message']);
      expect(typeof body.code).toBe('string');
      expect(body.message).not.toMatch(/\bat .*\.(ts|js):\d+/);
      expect(await rowCounts()).toEqual(before);
    },
  );

  it('when a cancel comes with no body or an empty JSON body, then it is accepted', async () => {
    const accepted = await inject({
      method: 'POST',
      url: `/events/${eventId}/purchases`,
      payload: { userId: 'nobody' },
    });
    const bare = await inject({ method: 'POST', url: `/purchases/${accepted.json().purchaseId}/cancel` });
    expect(bare.statusCode).toBe(202);
    const other = await inject({
      method: 'POST',
      url: `/events/${eventId}/purchases`,
      payload: { userId: 'empty' },
    });
    const empty = await inject({
      method: 'POST',
      url: `/purchases/${other.json().purchaseId}/cancel`,
      ...json(''),
    });
    expect(empty.statusCode).toBe(202);
  });
});
