import { loadOptions, runLoad } from '@ticketing/loadtest';
import { describe, expect, it } from 'vitest';
import { httpHelpers, type PurchaseBody } from './support/http.js';
import { useTestSystem } from './support/test-system.js';

const system = await useTestSystem();
const { inject, createEvent, submit, poll, buy, cancel } = httpHelpers(() => system);
const db = () => system.deps.db;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type HeldBody = PurchaseBody & { holdExpiresAt?: string; paymentReference?: string };

function confirm(purchaseId: string, paymentReference?: string) {
  return inject({
    method: 'POST',
    url: `/purchases/${purchaseId}/confirm`,
    ...(paymentReference === undefined ? {} : { payload: { paymentReference } }),
  });
}

async function status(eventId: string) {
  const response = await inject({ method: 'GET', url: `/events/${eventId}/status` });
  expect(response.statusCode).toBe(200);
  return response.json<{ soldTickets: number; heldTickets: number; availableTickets: number }>();
}

async function report(eventId: string) {
  const response = await inject({ method: 'GET', url: `/events/${eventId}/report` });
  expect(response.statusCode).toBe(200);
  return response.json<{ ticketsSold: number; revenueCents: number; holdsExpired: number }>();
}

const pollUntil = (purchaseId: string, wanted: string) =>
  poll(purchaseId, (body) => body.status === wanted) as Promise<HeldBody>;

async function eventRow(eventId: string) {
  return db()
    .selectFrom('events')
    .select(['soldTickets', 'heldTickets', 'totalTickets'])
    .where('id', '=', eventId)
    .executeTakeFirstOrThrow();
}

describe('holds', () => {
  it('when an event holds, then a purchase is held until its payment is confirmed, and a repeat is the same answer', async () => {
    const event = await createEvent({ totalTickets: 3, priceCents: 2500, holdSeconds: 60 });
    const held = (await buy(event.id, { userId: 'h1', quantity: 2 })) as HeldBody;
    expect(held).toMatchObject({ status: 'held', quantity: 2 });
    expect(held.bookingId).toBeUndefined();
    const expiresIn = Date.parse(held.holdExpiresAt ?? '') - Date.now();
    expect(expiresIn).toBeGreaterThan(50_000);
    expect(expiresIn).toBeLessThanOrEqual(60_000);
    expect(await status(event.id)).toMatchObject({ soldTickets: 0, heldTickets: 2, availableTickets: 1 });
    expect(await report(event.id)).toMatchObject({ ticketsSold: 0, revenueCents: 0 });

    const confirmed = await confirm(held.purchaseId, 'psp-123');
    expect(confirmed.statusCode, confirmed.body).toBe(200);
    const body = confirmed.json<HeldBody>();
    expect(body).toMatchObject({ status: 'confirmed', paymentReference: 'psp-123' });
    expect(body.holdExpiresAt).toBeUndefined();
    const booking = await db()
      .selectFrom('bookings')
      .selectAll()
      .where('purchaseId', '=', held.purchaseId)
      .executeTakeFirstOrThrow();
    expect(booking).toMatchObject({
      id: body.bookingId,
      quantity: 2,
      unitPriceCents: 2500,
      paymentReference: 'psp-123',
    });
    expect(await eventRow(event.id)).toMatchObject({ soldTickets: 2, heldTickets: 0 });
    expect(await report(event.id)).toMatchObject({ ticketsSold: 2, revenueCents: 5000, holdsExpired: 0 });

    // Repeats answer the same; naming another payment is refused, and nothing changes.
    for (const reference of ['psp-123', undefined]) {
      const again = await confirm(held.purchaseId, reference);
      expect(again.statusCode).toBe(200);
      expect(again.json()).toEqual(body);
    }
    const other = await confirm(held.purchaseId, 'psp-999');
    expect(other.statusCode).toBe(409);
    expect(other.json()).toMatchObject({ code: 'payment_reference_mismatch' });
    expect(await eventRow(event.id)).toMatchObject({ soldTickets: 2, heldTickets: 0 });
  });

  it('when a hold runs out, then it expires, cannot be confirmed or cancelled, and the next in line is held in turn', async () => {
    const event = await createEvent({ totalTickets: 1, priceCents: 1000, holdSeconds: 1 });
    const first = (await buy(event.id, { userId: 'x1' })) as HeldBody;
    const second = await buy(event.id, { userId: 'x2' });
    expect([first.status, second.status]).toEqual(['held', 'waitlisted']);

    expect(await pollUntil(first.purchaseId, 'expired')).toMatchObject({ status: 'expired' });
    const offer = await pollUntil(second.purchaseId, 'held');
    expect(Date.parse(offer.holdExpiresAt ?? '')).toBeGreaterThan(Date.parse(first.holdExpiresAt ?? ''));

    const late = await confirm(first.purchaseId, 'psp-late');
    expect(late.statusCode).toBe(409);
    expect(late.json()).toMatchObject({ code: 'hold_expired' });
    const cancelLate = await inject({ method: 'POST', url: `/purchases/${first.purchaseId}/cancel` });
    expect(cancelLate.statusCode).toBe(409);
    expect(cancelLate.json()).toMatchObject({ code: 'hold_expired' });
    expect(await db().selectFrom('bookings').selectAll().where('eventId', '=', event.id).execute()).toEqual(
      [],
    );

    expect((await confirm(second.purchaseId)).statusCode).toBe(200);
    expect(await report(event.id)).toMatchObject({ ticketsSold: 1, revenueCents: 1000, holdsExpired: 1 });
    expect(await eventRow(event.id)).toMatchObject({ soldTickets: 1, heldTickets: 0 });
  });

  it('when a hold is cancelled, then its tickets go to the next in line as a hold, and it cannot be confirmed', async () => {
    const event = await createEvent({ totalTickets: 2, holdSeconds: 60 });
    const first = await buy(event.id, { userId: 'c1', quantity: 2 });
    const second = await buy(event.id, { userId: 'c2', quantity: 2 });
    expect(second.status).toBe('waitlisted');
    await cancel(first.purchaseId);
    const refused = await confirm(first.purchaseId);
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ code: 'purchase_cancelled' });
    expect(await pollUntil(second.purchaseId, 'held')).toMatchObject({ quantity: 2 });
    expect(await eventRow(event.id)).toMatchObject({ soldTickets: 0, heldTickets: 2 });
  });

  it('when a purchase is not held, then confirming it is a 409 that changes nothing; without holds, confirmed is confirmed', async () => {
    const event = await createEvent({ totalTickets: 1 });
    const confirmed = await buy(event.id, { userId: 'n1' });
    expect(confirmed.status).toBe('confirmed');
    expect((await confirm(confirmed.purchaseId)).statusCode).toBe(200);
    const waiting = await buy(event.id, { userId: 'n2' });
    const refused = await confirm(waiting.purchaseId, 'psp-1');
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ code: 'not_held' });
    expect(await eventRow(event.id)).toMatchObject({ soldTickets: 1, heldTickets: 0 });
  });

  it('when a hold is past its time but its expiry was not carried out yet, then it still cannot be confirmed', async () => {
    const event = await createEvent({ totalTickets: 1, holdSeconds: 1 });
    const held = (await buy(event.id, { userId: 'p1' })) as HeldBody;
    await system.stopWorker();
    try {
      await sleep(Math.max(0, Date.parse(held.holdExpiresAt ?? '') - Date.now()) + 50);
      const refused = await confirm(held.purchaseId, 'psp-late');
      expect(refused.statusCode).toBe(409);
      expect(refused.json()).toMatchObject({ code: 'hold_expired' });
      const row = await db()
        .selectFrom('purchases')
        .select(['status', 'expireSeq'])
        .where('id', '=', held.purchaseId)
        .executeTakeFirstOrThrow();
      expect(row).toEqual({ status: 'held', expireSeq: null });
    } finally {
      await system.startWorker();
    }
    await pollUntil(held.purchaseId, 'expired');
    expect(await eventRow(event.id)).toMatchObject({ soldTickets: 0, heldTickets: 0 });
  });

  it('when the original API books on an event with holds, then it answers with the hold', async () => {
    const event = await createEvent({ totalTickets: 1, holdSeconds: 60 });
    const response = await inject({
      method: 'POST',
      url: '/book',
      payload: { userId: 7, eventId: event.id },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ status: 'held' });
  });
});

describe('a sell-out with holds', () => {
  it('when a third of the buyers never pay, then every seat ends confirmed, the line is served in order, and sold + held never exceed the total', async () => {
    const TICKETS = 20;
    const BUYERS = 60;
    const event = await createEvent({ totalTickets: TICKETS, holdSeconds: 2 });
    const samples: { sold: number; held: number }[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const row = await eventRow(event.id);
        samples.push({ sold: row.soldTickets, held: row.heldTickets });
        const seen = await status(event.id);
        samples.push({ sold: seen.soldTickets, held: seen.heldTickets });
        await sleep(10);
      }
    })();

    const accepted = await Promise.all(
      Array.from({ length: BUYERS }, (_, index) => submit(event.id, { userId: `buyer-${index}` })),
    );
    const payers = new Set(accepted.filter((_, index) => index % 3 !== 0).map((p) => p.purchaseId));
    const done = { value: false };
    // Each buyer follows their purchase; a payer confirms as soon as it is held, the others never do.
    const outcomes = await Promise.all(
      accepted.map(async ({ purchaseId }) => {
        for (;;) {
          const current = await poll(purchaseId, (body) => body.status !== 'queued');
          if (current.status === 'held' && payers.has(purchaseId)) {
            const response = await confirm(purchaseId, `psp-${purchaseId}`);
            expect([200, 409]).toContain(response.statusCode);
            if (response.statusCode === 409) expect(response.json()).toMatchObject({ code: 'hold_expired' });
            continue;
          }
          if (['confirmed', 'expired'].includes(current.status) || done.value) return current.status;
          await sleep(100);
          const row = await eventRow(event.id);
          // Sold out with every seat confirmed: nobody still waiting will get one.
          if (row.soldTickets === TICKETS) done.value = true;
        }
      }),
    );
    sampling = false;
    await sampler;

    const final = await eventRow(event.id);
    expect(final).toMatchObject({ soldTickets: TICKETS, heldTickets: 0 });
    expect(outcomes.filter((outcome) => outcome === 'confirmed')).toHaveLength(TICKETS);
    expect(samples.length).toBeGreaterThan(20);
    for (const sample of samples) expect(sample.sold + sample.held).toBeLessThanOrEqual(TICKETS);

    const rows = await db()
      .selectFrom('purchases as p')
      .leftJoin('bookings as b', 'b.purchaseId', 'p.id')
      .select(['p.id', 'p.seq', 'p.status', 'p.holdExpiresAt', 'b.id as bookingId', 'b.paymentReference'])
      .where('p.eventId', '=', event.id)
      .orderBy('p.seq')
      .execute();
    // Nobody skipped ahead: by queue order, everyone who got a hold comes before everyone still waiting,
    // and holds were given out in queue order.
    const firstWaiting = rows.findIndex((row) => row.status === 'waitlisted');
    expect(firstWaiting).toBeGreaterThanOrEqual(TICKETS);
    expect(rows.slice(0, firstWaiting).every((row) => ['confirmed', 'expired'].includes(row.status))).toBe(
      true,
    );
    expect(rows.slice(firstWaiting).every((row) => row.status === 'waitlisted')).toBe(true);
    const holdStarts = rows
      .filter((row) => row.holdExpiresAt !== null)
      .map((row) => row.holdExpiresAt?.getTime() ?? 0);
    expect(holdStarts).toEqual([...holdStarts].sort((a, b) => a - b));
    // Every seat went to a payer; every expired hold was a buyer who did not pay (or paid too late), with no booking.
    for (const row of rows) {
      if (row.status === 'confirmed') {
        expect(payers.has(row.id)).toBe(true);
        expect(row.paymentReference).toBe(`psp-${row.id}`);
      } else expect(row.bookingId).toBeNull();
    }
    const expired = rows.filter((row) => row.status === 'expired');
    expect(expired.length).toBeGreaterThan(0);
    expect(await report(event.id)).toMatchObject({ ticketsSold: TICKETS, holdsExpired: expired.length });
  }, 120_000);
});

describe('confirm racing expiry', () => {
  it('when many confirms are fired at the instant each hold runs out, then each hold ends confirmed or expired, never both', async () => {
    const HOLDS = 30;
    const CONFIRMS_PER_HOLD = 6;
    const holdAll = async (holdSeconds: number, tag: string) => {
      const event = await createEvent({ totalTickets: HOLDS, holdSeconds });
      const held = (await Promise.all(
        Array.from({ length: HOLDS }, (_, index) => buy(event.id, { userId: `${tag}-${index}` })),
      )) as HeldBody[];
      expect(held.every((purchase) => purchase.status === 'held')).toBe(true);
      return { event, held };
    };
    // How long such a burst of confirms takes to be answered on this machine now, measured on holds
    // that have time: the bursts below are spread around each expiry by as much.
    const warmUp = await holdAll(60, 'warm');
    const warmStart = Date.now();
    await Promise.all(
      warmUp.held.flatMap((purchase) =>
        Array.from({ length: CONFIRMS_PER_HOLD }, () => confirm(purchase.purchaseId, 'psp-warm')),
      ),
    );
    const burstMs = Date.now() - warmStart;
    const { event, held } = await holdAll(1, 'race');

    // Sweeps and rounds as fast as they go, so expiries are carried out while the confirms land.
    let sweeping = true;
    const sweeper = (async () => {
      while (sweeping) {
        await system.worker.scanNow();
        await sleep(1);
      }
    })();
    const responses = await Promise.all(
      held.flatMap((purchase, holdIndex) =>
        Array.from({ length: CONFIRMS_PER_HOLD }, async (_, index) => {
          // Each hold's burst is fired around the instant it runs out (by the database's clock, this
          // machine's): from a burst's answer time before it for the first hold to a tenth of that
          // after it for the last, so that some bursts land in time and some just too late.
          const burstAt = -burstMs + (1.1 * burstMs * holdIndex) / (HOLDS - 1);
          const at = Date.parse(purchase.holdExpiresAt ?? '') + burstAt + index * 4;
          await sleep(Math.max(0, at - Date.now()));
          const sent = Date.now();
          const response = await confirm(purchase.purchaseId, 'psp-race');
          if (process.env.DEBUG_RACE)
            console.log(
              holdIndex,
              index,
              sent - Date.parse(purchase.holdExpiresAt ?? ''),
              Date.now() - sent,
              response.statusCode,
              response.body.slice(0, 60),
            );
          return { purchaseId: purchase.purchaseId, status: response.statusCode, body: response.json() };
        }),
      ),
    );
    await sleep(2_500);
    sweeping = false;
    await sweeper;

    const rows = await db()
      .selectFrom('purchases as p')
      .leftJoin('bookings as b', 'b.purchaseId', 'p.id')
      .select(['p.id', 'p.status', 'p.holdExpiresAt', 'b.id as bookingId', 'b.createdAt as bookedAt'])
      .where('p.eventId', '=', event.id)
      .execute();
    let confirmed = 0;
    for (const row of rows) {
      const answers = responses.filter((response) => response.purchaseId === row.id);
      if (row.status === 'confirmed') {
        confirmed += 1;
        expect(row.bookingId).not.toBeNull();
        // Booked by a transaction that began before the hold ran out, by the database's clock.
        expect(row.bookedAt?.getTime()).toBeLessThan(row.holdExpiresAt?.getTime() ?? 0);
        // The first success and every answer after it agree; a refusal can only have come first.
        const accepted = answers.filter((answer) => answer.status === 200);
        expect(accepted.length).toBeGreaterThan(0);
        for (const answer of accepted)
          expect(answer.body).toMatchObject({ status: 'confirmed', bookingId: row.bookingId });
        expect(answers.filter((answer) => answer.status !== 200)).toEqual([]);
      } else {
        expect(row.status).toBe('expired');
        expect(row.bookingId).toBeNull();
        for (const answer of answers) {
          expect(answer.status).toBe(409);
          expect(answer.body).toMatchObject({ code: 'hold_expired' });
        }
      }
    }
    expect(await eventRow(event.id)).toMatchObject({ soldTickets: confirmed, heldTickets: 0 });
    const expired = rows.length - confirmed;
    // The race really happened: some holds were confirmed in their last moments, others just missed.
    expect(confirmed).toBeGreaterThan(0);
    expect(expired).toBeGreaterThan(0);
  }, 60_000);
});

describe('the load client with holds', () => {
  it('when buyers pay for some holds and let the others run out, then its audit of the books through the API is exact', async () => {
    const address = await system.app.listen({ port: 0, host: '127.0.0.1' });
    const result = await runLoad(
      loadOptions({
        url: address,
        events: 2,
        tickets: 60,
        purchases: 400,
        concurrency: 48,
        quantity: { min: 1, max: 2 },
        cancelRatio: 0.1,
        holdSeconds: 1,
        payRatio: 0.6,
      }),
    );
    expect(result.errors, result.errorSamples.join('\n')).toBe(0);
    // sold + held within the total, no ticket both held and sold, every hold ended, expiries reported.
    expect(result.audit).toEqual({ ok: true, violations: [] });
    expect(result.held).toBe(0);
    expect(result.holdsConfirmed).toBeGreaterThan(0);
    expect(result.expired).toBeGreaterThan(0);
    expect(result.confirmed).toBeGreaterThan(0);
  }, 120_000);
});
