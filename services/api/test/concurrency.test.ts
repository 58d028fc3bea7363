import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessSystem } from '@ticketing/harness';
import { waitUntilNothingQueued } from '@ticketing/shared/testing';
import { httpHelpers, type PurchaseBody } from './support/http.js';
import { useTestSystem } from './support/test-system.js';

const TICKETS = 500;
const BUYERS = 2_000;

// Only the two worker processes consume the queues: no in-process worker.
const system = await useTestSystem({}, { worker: false });
let workers: ProcessSystem;
const { inject, createEvent, cancel, poll } = httpHelpers(() => system);

beforeAll(async () => {
  workers = await ProcessSystem.create({
    postgres: system.environment.postgres,
    redis: system.environment.redis,
  });
  await workers.startWorkers(2);
});

afterAll(async () => {
  await workers?.stop();
});

describe('an on-sale under concurrency', () => {
  it(`when ${BUYERS} buyers hit ${TICKETS} tickets at once across two worker processes, then the books are exact`, async () => {
    const event = await createEvent({ totalTickets: TICKETS, priceCents: 1000 });
    const responses = await Promise.all(
      Array.from({ length: BUYERS }, (_, index) =>
        inject({
          method: 'POST',
          url: `/events/${event.id}/purchases`,
          payload: { userId: `buyer-${index}` },
        }),
      ),
    );
    expect(responses.filter((response) => response.statusCode === 202)).toHaveLength(BUYERS);
    await waitUntilNothingQueued(system.deps.db, event.id);

    const db = system.deps.db;
    const rows = await db
      .selectFrom('purchases')
      .selectAll()
      .where('eventId', '=', event.id)
      .orderBy('seq')
      .execute();
    const confirmed = rows.filter((row) => row.status === 'confirmed');
    const waitlisted = rows.filter((row) => row.status === 'waitlisted');
    expect(confirmed).toHaveLength(TICKETS);
    expect(waitlisted).toHaveLength(BUYERS - TICKETS);

    const eventRow = await db
      .selectFrom('events')
      .selectAll()
      .where('id', '=', event.id)
      .executeTakeFirstOrThrow();
    expect(eventRow.soldTickets).toBe(TICKETS);
    const booked = await db
      .selectFrom('bookings')
      .select((eb) => [eb.fn.sum<number>('quantity').as('tickets'), eb.fn.countAll<number>().as('count')])
      .where('eventId', '=', event.id)
      .executeTakeFirstOrThrow();
    expect(Number(booked.tickets)).toBe(TICKETS);
    expect(booked.count).toBe(TICKETS);

    // The line: positions 1..1500 as the API reports them, in the order the worker queued them.
    const line = await db
      .selectFrom('waitlistEntries')
      .select('purchaseId')
      .where('eventId', '=', event.id)
      .orderBy('lineNo')
      .execute();
    const positions = await Promise.all(
      line.map(async (entry) => (await poll(entry.purchaseId)).waitlistPosition),
    );
    expect(positions).toEqual(Array.from({ length: BUYERS - TICKETS }, (_, index) => index + 1));
    // Queue order: everyone confirmed was accepted before everyone waiting (seq is acceptance order).
    const lastConfirmedSeq = Math.max(...confirmed.map((row) => row.seq));
    const firstWaitingSeq = Math.min(...waitlisted.map((row) => row.seq));
    expect(lastConfirmedSeq).toBeLessThan(firstWaitingSeq);
    const seqByPurchase = new Map(rows.map((row) => [row.id, row.seq]));
    const lineSeqs = line.map((entry) => seqByPurchase.get(entry.purchaseId) ?? 0);
    expect(lineSeqs).toEqual([...lineSeqs].sort((a, b) => a - b));

    // Cancellations then promote the head of the line, strictly in order.
    const cancelled = confirmed.slice(0, 10);
    for (const purchase of cancelled) await cancel(purchase.id);
    const promoted = line.slice(0, 10).map((entry) => entry.purchaseId);
    for (const purchaseId of promoted) {
      expect(await poll(purchaseId, (body: PurchaseBody) => body.status === 'confirmed')).toMatchObject({
        status: 'confirmed',
      });
    }
    const nextInLine = line[10]?.purchaseId ?? '';
    expect((await poll(nextInLine)).waitlistPosition).toBe(1);
    const after = await db
      .selectFrom('events')
      .select('soldTickets')
      .where('id', '=', event.id)
      .executeTakeFirstOrThrow();
    expect(after.soldTickets).toBe(TICKETS);
    const status = await inject({ method: 'GET', url: `/events/${event.id}/status` });
    expect(status.json()).toMatchObject({
      soldTickets: TICKETS,
      availableTickets: 0,
      waitlistCount: BUYERS - TICKETS - 10,
    });
  }, 120_000);
});
