import { describe, expect, it } from 'vitest';
import { httpHelpers } from './support/http.js';
import { useTestSystem } from './support/test-system.js';

const system = await useTestSystem();
const { inject, createEvent } = httpHelpers(() => system);
const submit = (eventId: string, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  inject({ method: 'POST', url: `/events/${eventId}/purchases`, payload: body, headers });

const statusOf = async (purchaseId: string) =>
  (
    await system.deps.db
      .selectFrom('purchases')
      .select('status')
      .where('id', '=', purchaseId)
      .executeTakeFirstOrThrow()
  ).status;

describe('submitting with Prefer: wait=N', () => {
  it('when the purchase is decided within N, then it is 200 with the decision, as Postgres has it', async () => {
    const event = await createEvent({ totalTickets: 1 });
    const first = await submit(event.id, { userId: 'w-1' }, { prefer: 'wait=10' });
    expect(first.statusCode, first.body).toBe(200);
    expect(first.headers['preference-applied']).toBe('wait=10');
    const body = first.json();
    expect(body).toMatchObject({ status: 'confirmed', userId: 'w-1' });
    expect(body.bookingId).toBeDefined();
    expect(first.headers.location).toBe(`/purchases/${body.purchaseId}`);
    expect(await statusOf(body.purchaseId)).toBe('confirmed');

    const second = await submit(event.id, { userId: 'w-2' }, { prefer: 'respond-async, wait=10' });
    expect(second.statusCode).toBe(200);
    expect(second.json()).toMatchObject({ status: 'waitlisted', waitlistPosition: 1 });
  });

  it('when no Prefer header is sent, then it is 202 queued as before, without Preference-Applied', async () => {
    const event = await createEvent();
    const response = await submit(event.id, { userId: 'plain' });
    expect(response.statusCode).toBe(202);
    expect(response.json()).toMatchObject({ status: 'queued' });
    expect(response.headers['preference-applied']).toBeUndefined();
  });

  it('when more than 30 s is asked for, then 30 s is what is applied', async () => {
    const event = await createEvent();
    const response = await submit(event.id, { userId: 'patient' }, { prefer: 'wait=3600' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['preference-applied']).toBe('wait=30');
  });

  it('when a retry with the same Idempotency-Key waits, then it gets the same purchase, decided', async () => {
    const event = await createEvent();
    const headers = { 'idempotency-key': 'wait-retry', prefer: 'wait=10' };
    const first = await submit(event.id, { userId: 'again' }, headers);
    const retry = await submit(event.id, { userId: 'again' }, headers);
    expect(retry.statusCode).toBe(200);
    expect(retry.json()).toMatchObject({ purchaseId: first.json().purchaseId, status: 'confirmed' });
  });

  it('when N runs out before a worker decides, then it is 202 queued after about N seconds', async () => {
    await system.stopWorker();
    try {
      const event = await createEvent();
      const started = Date.now();
      const response = await submit(event.id, { userId: 'no-worker' }, { prefer: 'wait=1' });
      expect(response.statusCode).toBe(202);
      expect(response.headers['preference-applied']).toBe('wait=1');
      expect(response.json()).toMatchObject({ status: 'queued' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(950);
      expect(await statusOf(response.json().purchaseId)).toBe('queued');
    } finally {
      await system.startWorker();
    }
  });

  it('when the Prefer header is malformed, then it is ignored and the answer is 202', async () => {
    const event = await createEvent();
    const response = await submit(event.id, { userId: 'odd' }, { prefer: 'wait=soon' });
    expect(response.statusCode).toBe(202);
    expect(response.headers['preference-applied']).toBeUndefined();
  });
});
