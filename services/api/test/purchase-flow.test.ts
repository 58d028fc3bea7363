import { describe, expect, it } from 'vitest';
import { useTestSystem } from './support/test-system.js';

const system = await useTestSystem();

async function createEvent(body: Record<string, unknown>) {
  const response = await system.app.inject({ method: 'POST', url: '/events', payload: body });
  expect(response.statusCode).toBe(201);
  return response.json<{ id: string }>();
}

async function purchase(eventId: string, body: Record<string, unknown>) {
  const response = await system.app.inject({
    method: 'POST',
    url: `/events/${eventId}/purchases`,
    payload: body,
  });
  expect(response.statusCode).toBe(202);
  return response.json<{ purchaseId: string; status: string }>();
}

async function poll(purchaseId: string) {
  const response = await system.app.inject({ method: 'GET', url: `/purchases/${purchaseId}?waitMs=10000` });
  expect(response.statusCode).toBe(200);
  return response.json<Record<string, unknown>>();
}

describe('purchase flow', () => {
  it('when tickets remain, then a purchase is confirmed with a booking row', async () => {
    const event = await createEvent({ name: 'Flow', totalTickets: 3, priceCents: 2500 });
    const accepted = await purchase(event.id, { userId: 'alice', quantity: 2 });
    expect(accepted.status).toBe('queued');
    const outcome = await poll(accepted.purchaseId);
    expect(outcome).toMatchObject({ status: 'confirmed', quantity: 2, userId: 'alice' });
    const booking = await system.deps.db
      .selectFrom('bookings')
      .selectAll()
      .where('purchaseId', '=', accepted.purchaseId)
      .executeTakeFirstOrThrow();
    expect(booking).toMatchObject({ quantity: 2, unitPriceCents: 2500, id: outcome.bookingId });
  });
});
