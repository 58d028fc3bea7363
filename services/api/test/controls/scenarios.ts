import type { AddressInfo } from 'node:net';
import {
  auditDatabase,
  waitAllFinal,
  waitSaleOperationsDone,
  type Books,
  type BuyersSeen,
} from '@ticketing/faults/books';
import { Buyers } from '@ticketing/faults/buyers';
import { sleep } from '@ticketing/harness';
import { loadOptions, runLoad, type LoadResult } from '@ticketing/loadtest';
import { waitUntilNothingQueued } from '@ticketing/shared/testing';
import { SignJWT } from 'jose';
import { sql } from 'kysely';
import pg from 'pg';
import { expect } from 'vitest';
import { httpHelpers, type PurchaseBody } from '../support/http.js';
import type { TestSystem } from '../support/test-system.js';

// The negative controls' scenarios through the api (docs/controls.md): each control runs one with its
// switches on and expects the audit to report the violation; without-switches.test.ts runs them all
// with the switches off and expects clean books.

/** The system's address, listening on a free port from the first call. */
async function urlOf(system: TestSystem): Promise<string> {
  if (!system.app.server.listening) await system.app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(system.app.server.address() as AddressInfo).port}`;
}

async function waitFinal(system: TestSystem, buyers: BuyersSeen, timeoutMs: number): Promise<number> {
  const pool = new pg.Pool({ connectionString: system.config.databaseUrl, max: 1 });
  try {
    const waited = await waitAllFinal(pool, buyers, timeoutMs);
    // Then the operations on the sales (resizes, closes) whose turn came after the last purchase.
    return waited + (await waitSaleOperationsDone(pool, timeoutMs));
  } finally {
    await pool.end();
  }
}

const seen = (eventId: string, purchaseIds: readonly string[]): BuyersSeen => ({
  accepted: new Map(purchaseIds.map((purchaseId) => [purchaseId, { purchaseId, eventId }])),
  duplicated: 0,
  rejected: [],
});

/** The fault suite's buyers (one in ten sends its accepted purchase again, same key): 200 for 50 tickets. */
export async function resendingBuyers(system: TestSystem): Promise<{ buyers: Buyers; books: Books }> {
  const { createEvent } = httpHelpers(() => system);
  const url = await urlOf(system);
  const event = await createEvent({ totalTickets: 50 });
  const buyers = await new Buyers(() => url, { events: [event.id], purchases: 200, concurrency: 20 }).run();
  await waitFinal(system, buyers, 30_000);
  return { buyers, books: await auditDatabase(system.config.databaseUrl, buyers, { fifo: false }) };
}

/** A sold-out event (10 tickets, 30 buyers), then 3 of the confirmed cancel: their tickets go to the line. */
export async function cancelAfterSellOut(system: TestSystem): Promise<Books> {
  const { createEvent, submit, poll, cancel } = httpHelpers(() => system);
  const event = await createEvent({ totalTickets: 10 });
  const purchases = await Promise.all(
    Array.from({ length: 30 }, (_, index) => submit(event.id, { userId: `buyer-${index}` })),
  );
  await waitUntilNothingQueued(system.deps.db, event.id);
  const confirmed: string[] = [];
  for (const purchase of purchases) {
    if ((await poll(purchase.purchaseId)).status === 'confirmed') confirmed.push(purchase.purchaseId);
  }
  for (const purchaseId of confirmed.slice(0, 3)) await cancel(purchaseId);
  const buyers = seen(
    event.id,
    purchases.map((purchase) => purchase.purchaseId),
  );
  return auditDatabase(system.config.databaseUrl, buyers, { fifo: true });
}

/** The load client (`pnpm loadtest`) on a sold-out event, cancelling some of its confirmed purchases. */
export async function cancellingLoadClient(system: TestSystem): Promise<LoadResult> {
  return runLoad(
    loadOptions({
      url: await urlOf(system),
      events: 1,
      tickets: 20,
      purchases: 120,
      concurrency: 24,
      quantity: { min: 1, max: 1 },
      cancelRatio: 0.3,
    }),
  );
}

/**
 * A hold of 1 s, then its confirmation after it ran out but before its expiry is carried out (no
 * worker runs meanwhile, so no sweep). Returns the confirmation's status code and the books.
 */
export async function confirmAfterHoldRanOut(
  system: TestSystem,
): Promise<{ statusCode: number; books: Books }> {
  const { inject, createEvent, buy } = httpHelpers(() => system);
  const event = await createEvent({ totalTickets: 1, holdSeconds: 1 });
  const held = (await buy(event.id, { userId: 'p1' })) as { purchaseId: string; holdExpiresAt?: string };
  await system.stopWorker();
  let statusCode: number;
  try {
    await sleep(Math.max(0, Date.parse(held.holdExpiresAt ?? '') - Date.now()) + 50);
    statusCode = (await inject({ method: 'POST', url: `/purchases/${held.purchaseId}/confirm` })).statusCode;
  } finally {
    await system.startWorker();
  }
  const books = await auditDatabase(system.config.databaseUrl, seen(event.id, [held.purchaseId]), {
    fifo: false,
  });
  return { statusCode, books };
}

/**
 * The system `acceptThenLoseRedis` runs on (`useTestSystem(...REDIS_LOSS_SYSTEM)` or
 * `startTestSystem(...)`): no worker until the scenario starts one, and a reconciler that looks for
 * lost jobs every 200 ms.
 */
export const REDIS_LOSS_SYSTEM = [
  { RECONCILE_INTERVAL_MS: '200', RECONCILE_AFTER_MS: '200' },
  { worker: false },
] as const;

/** How long `acceptThenLoseRedis` waits for every purchase to be final: the scan runs every second. */
const REDIS_LOSS_SETTLE_MS = 5_000;

/**
 * 20 purchases accepted while no worker runs (on `REDIS_LOSS_SYSTEM`), every Redis key lost,
 * then a worker; the books once every purchase is final, or after `REDIS_LOSS_SETTLE_MS`. Also
 * returns the event's jobs waiting in Redis: the reconciler's re-created job, unless a worker took it.
 */
export async function acceptThenLoseRedis(
  system: TestSystem,
): Promise<{ eventId: string; books: Books; waitingJobs: number }> {
  const { createEvent, submit } = httpHelpers(() => system);
  const event = await createEvent({ totalTickets: 5 });
  const purchases = await Promise.all(
    Array.from({ length: 20 }, (_, index) => submit(event.id, { userId: `buyer-${index}` })),
  );
  await system.environment.redis.deleteKeys();
  await system.startWorker();
  const buyers = seen(
    event.id,
    purchases.map((purchase) => purchase.purchaseId),
  );
  await waitFinal(system, buyers, REDIS_LOSS_SETTLE_MS);
  const books = await auditDatabase(system.config.databaseUrl, buyers, { fifo: true });
  const { waiting } = await system.deps.queues.queue(event.id).getJobCounts('waiting');
  return { eventId: event.id, books, waitingJobs: waiting ?? 0 };
}

const BUYER_SECRET = 'a-shop-back-end-secret-of-32-chars-or-more';

/** The system `reachForAnothersPurchase` runs on: buyers identified by tokens signed with a secret. */
export const BUYER_TOKEN_SYSTEM = [{ BUYER_JWT_SECRET: BUYER_SECRET }] as const;

async function bearer(sub: string): Promise<Record<string, string>> {
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(BUYER_SECRET));
  return { authorization: `Bearer ${token}` };
}

/**
 * Alice buys a ticket and waits for it; then mallory, with a token of her own, reads alice's purchase
 * and asks to cancel it (on `BUYER_TOKEN_SYSTEM`). Returns what mallory got, and whether the
 * purchase's row has a cancellation requested.
 */
export async function reachForAnothersPurchase(system: TestSystem): Promise<{
  read: { statusCode: number; body: Partial<PurchaseBody> };
  cancelStatusCode: number;
  cancelRequested: boolean;
}> {
  const { inject, createEvent } = httpHelpers(() => system);
  const event = await createEvent({ totalTickets: 5 });
  const alice = await bearer('alice');
  const bought = await inject({
    method: 'POST',
    url: `/events/${event.id}/purchases`,
    headers: alice,
    payload: {},
  });
  expect(bought.statusCode, bought.body).toBe(202);
  const { purchaseId } = bought.json<PurchaseBody>();
  const decided = await inject({
    method: 'GET',
    url: `/purchases/${purchaseId}?waitMs=5000`,
    headers: alice,
  });
  expect(decided.json<PurchaseBody>().status).toBe('confirmed');

  const mallory = await bearer('mallory');
  const read = await inject({ method: 'GET', url: `/purchases/${purchaseId}?waitMs=5000`, headers: mallory });
  const cancel = await inject({ method: 'POST', url: `/purchases/${purchaseId}/cancel`, headers: mallory });
  const row = await system.deps.db
    .selectFrom('purchases')
    .select('cancelRequestedAt')
    .where('id', '=', purchaseId)
    .executeTakeFirstOrThrow();
  return {
    read: { statusCode: read.statusCode, body: read.json<Partial<PurchaseBody>>() },
    cancelStatusCode: cancel.statusCode,
    cancelRequested: row.cancelRequestedAt !== null,
  };
}

/**
 * An on-sale (docs/on-sale.md): 30 buyers enter the pre-queue of 6 tickets whose sale starts 2 s from
 * now by Postgres's clock, 10 more come after the start; one ticket each, all joining the waiting list.
 * The books once every purchase is final: the queue order is the draw's, then arrival.
 */
export async function preQueueThenStart(system: TestSystem): Promise<Books> {
  const { createEvent, submit } = httpHelpers(() => system);
  const { rows } = await system.deps.db.executeQuery<{ at: Date }>(
    sql`select clock_timestamp() + interval '2 seconds' as at`.compile(system.deps.db),
  );
  const start = rows[0]!.at;
  const event = await createEvent({ totalTickets: 6, salesStartAt: start.toISOString() });
  const early = await Promise.all(
    Array.from({ length: 30 }, (_, index) => submit(event.id, { userId: `early-${index}` })),
  );
  await sleep(Math.max(0, start.getTime() - Date.now()) + 300);
  const late = await Promise.all(
    Array.from({ length: 10 }, (_, index) => submit(event.id, { userId: `late-${index}` })),
  );
  const buyers = seen(
    event.id,
    [...early, ...late].map((purchase) => purchase.purchaseId),
  );
  await waitFinal(system, buyers, 30_000);
  return auditDatabase(system.config.databaseUrl, buyers, { fifo: true });
}

/**
 * Resizes behind queued purchases (docs/running-a-sale.md), with no worker running meanwhile: 30
 * buyers wait for an event of 20 tickets, which is then asked to shrink to 15; 15 buyers who do not
 * join the waiting list wait for one of 10, which is then asked to grow to 20. Then a worker decides.
 * In queue order the purchases before each resize are decided on the old total (20 confirmed, the
 * shrink stopping at them; 10 confirmed and 5 rejected before the growth). The books once all is done,
 * with the events' totals at creation for the replay.
 */
export async function resizeBehindQueuedPurchases(system: TestSystem): Promise<Books> {
  const { inject, createEvent, submit } = httpHelpers(() => system);
  const shrinking = await createEvent({ totalTickets: 20 });
  const growing = await createEvent({ totalTickets: 10 });
  await system.stopWorker();
  let purchases: string[];
  try {
    const waiting = await Promise.all(
      Array.from({ length: 30 }, (_, index) => submit(shrinking.id, { userId: `waits-${index}` })),
    );
    const notWaiting = await Promise.all(
      Array.from({ length: 15 }, (_, index) =>
        submit(growing.id, { userId: `leaves-${index}`, joinWaitlist: false }),
      ),
    );
    purchases = [...waiting, ...notWaiting].map((purchase) => purchase.purchaseId);
    for (const [event, totalTickets] of [
      [shrinking, 15],
      [growing, 20],
    ] as const) {
      const resized = await inject({
        method: 'PATCH',
        url: `/events/${event.id}`,
        payload: { totalTickets },
      });
      expect(resized.statusCode, resized.body).toBe(200);
    }
  } finally {
    await system.startWorker();
  }
  const buyers: BuyersSeen = {
    accepted: new Map(
      purchases.map((purchaseId, index) => [
        purchaseId,
        { purchaseId, eventId: index < 30 ? shrinking.id : growing.id },
      ]),
    ),
    duplicated: 0,
    rejected: [],
  };
  await waitFinal(system, buyers, 30_000);
  return auditDatabase(system.config.databaseUrl, buyers, {
    fifo: true,
    initialTotals: new Map([
      [shrinking.id, 20],
      [growing.id, 10],
    ]),
  });
}

/**
 * The load client (`pnpm loadtest`) resizing its sale while it is paused: 160 purchases at 40 a
 * second for an event of 100 tickets, paused once 2% are accepted, for 3 s, and asked to shrink to 30
 * once 40% are (the purchases before it have taken fewer than 30 then: nothing is decided while
 * paused). In queue order the 64 before the shrink all get tickets (it stops at them). The client
 * cannot tell where the purchases in flight as it sent the resize were numbered: at this pace they are
 * few enough to leave the 30 of a shrink carried out at once well short of what its audit expects.
 */
export async function resizingLoadClient(system: TestSystem): Promise<LoadResult> {
  return runLoad(
    loadOptions({
      url: await urlOf(system),
      events: 1,
      tickets: 100,
      purchases: 160,
      rate: 40,
      quantity: { min: 1, max: 1 },
      saleOperations: [
        { at: 0.02, kind: 'pause', forMs: 3_000 },
        { at: 0.4, kind: 'resize', totalTickets: 30 },
      ],
    }),
  );
}
