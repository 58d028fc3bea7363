import { randomUUID } from 'node:crypto';
import {
  TicketingClient,
  auditBooks,
  mapLimit,
  type LoadOptions,
  type PurchaseState,
} from '../../packages/loadtest/src/index.js';
import { Latencies } from '../../packages/loadtest/src/stats.js';
import { cpuPerUnit, type BenchSystem, type ResultRow } from '../bench-types.js';

/** Buyers reading their purchase at once, as a page of waiting buyers refreshing would. */
const READERS = 64;
/** Cancellations timed at each size, one after another. */
const CANCELLATIONS = 50;

/**
 * A waiting list that grows long: one event whose tickets go to the first buyers, and everyone after
 * them in line. At a tenth of the purchases and then at all of them, once every purchase is decided:
 * every buyer reads its purchase once (each waiting one sees its exact position), then confirmed
 * purchases are cancelled one at a time, each promoting the head of the line. What a read and a
 * promotion cost should not grow with the length of the line.
 */
export async function runLongWaitlist(
  system: BenchSystem,
  name: string,
  options: LoadOptions,
  progress: (line: string) => void,
): Promise<ResultRow[]> {
  const client = new TicketingClient(system.url, Math.max(options.concurrency, READERS) + 16);
  const tag = randomUUID().slice(0, 8);
  const rows: ResultRow[] = [];
  try {
    const event = await client.createEvent({
      name: `long waiting list ${tag}`,
      totalTickets: options.tickets,
      priceCents: options.priceCents,
    });
    await system.startWorkers(1);
    const accepted: string[] = [];
    let errors = 0;
    // The smaller list: a tenth of the purchases, and at least as many waiting as hold tickets.
    for (const size of [
      Math.max(2 * options.tickets, Math.round(options.purchases / 10)),
      options.purchases,
    ]) {
      const indexes = Array.from({ length: size - accepted.length }, (_, offset) => accepted.length + offset);
      await mapLimit(indexes, options.concurrency, async (index) => {
        const purchase = await client
          .submitPurchase(event.id, { userId: `w-${tag}-${index}`, quantity: 1 }, `${tag}-${index}`)
          .catch(() => undefined);
        if (purchase === undefined) errors += 1;
        else accepted.push(purchase.purchaseId);
      });
      await untilNoneQueued(system);
      const waiting = accepted.length - options.tickets;
      progress(`${accepted.length} purchases decided, ${waiting} waiting`);

      const readStart = await system.cpu();
      const began = performance.now();
      const states = await mapLimit(accepted, READERS, (id) => client.getPurchase(id));
      const readSeconds = (performance.now() - began) / 1000;
      const readEnd = await system.cpu();
      const violations = await audit(client, event.id, options, states);
      rows.push({
        name: `${name} read @ ${waiting} waiting`,
        what: `every buyer reads its purchase once, ${READERS} at a time (${waiting} of ${accepted.length} are waiting)`,
        units: states.length,
        unit: 'read',
        perSecond: Math.round(states.length / readSeconds),
        cpuMicros: cpuPerUnit(readStart, readEnd, states.length),
        outcomes: outcomes(states),
        errors,
        audit: violations.length === 0 ? 'ok' : `FAILED: ${violations.slice(0, 3).join('; ')}`,
      });

      const cancelled = states.filter((state) => state.status === 'confirmed').slice(0, CANCELLATIONS);
      const latency = new Latencies();
      const cancelStart = await system.cpu();
      const cancelBegan = performance.now();
      for (const purchase of cancelled) {
        const begin = performance.now();
        await client.cancel(purchase.purchaseId);
        await client.follow(purchase.purchaseId, (state) => state.status === 'cancelled');
        latency.add(performance.now() - begin);
      }
      const cancelEnd = await system.cpu();
      const promoted = await mapLimit(
        states.filter(
          (state) => state.waitlistPosition !== undefined && state.waitlistPosition <= cancelled.length,
        ),
        READERS,
        (state) => client.getPurchase(state.purchaseId),
      );
      const notPromoted = promoted.filter((state) => state.status !== 'confirmed').length;
      rows.push({
        name: `${name} promotion @ ${waiting} waiting`,
        what: `${cancelled.length} confirmed purchases cancelled one after another, each promoting the head of the line (cancel → cancelled, ms)`,
        units: cancelled.length,
        unit: 'cancellation',
        perSecond: Math.round(cancelled.length / ((performance.now() - cancelBegan) / 1000)),
        latencyMs: latency.summary(),
        cpuMicros: cpuPerUnit(cancelStart, cancelEnd, cancelled.length),
        errors: 0,
        audit:
          notPromoted === 0
            ? 'ok'
            : `FAILED: ${notPromoted} of the first ${promoted.length} in line not promoted`,
      });
    }
    rows.push(await cancelInBurst(system, client, name, options, accepted.length - options.tickets));
  } finally {
    await client.close();
  }
  return rows;
}

/**
 * A burst on the longest list: every confirmed purchase cancelled at once (as many as the event has
 * tickets), each freeing its ticket for the next in line; the worker carries them out together, in
 * as few rounds as their order allows. Timed from the first request to the last cancellation seen.
 */
async function cancelInBurst(
  system: BenchSystem,
  client: TicketingClient,
  name: string,
  options: LoadOptions,
  waiting: number,
): Promise<ResultRow> {
  const confirmed = await system.query<{ id: string }>(
    "select id from purchases where status = 'confirmed' order by seq",
  );
  const ids = confirmed.map((row) => row.id);
  const [head] = await system.query<{ head: number }>('select waitlist_head::int as head from events');
  const start = await system.cpu();
  const began = performance.now();
  await mapLimit(ids, options.concurrency, (id) => client.cancel(id));
  await mapLimit(ids, READERS, (id) => client.follow(id, (state) => state.status === 'cancelled'));
  const seconds = (performance.now() - began) / 1000;
  const end = await system.cpu();
  // The next `ids.length` in line, each promoted: the line's head moved past all of them.
  const [after] = await system.query<{ head: number }>('select waitlist_head::int as head from events');
  const promoted = (after?.head ?? 0) - (head?.head ?? 0);
  return {
    name: `${name} burst @ ${waiting} waiting`,
    what: `${ids.length} confirmed purchases cancelled at once, each promoting the next in line`,
    units: ids.length,
    unit: 'cancellation',
    perSecond: Math.round(ids.length / seconds),
    cpuMicros: cpuPerUnit(start, end, ids.length),
    errors: 0,
    audit: promoted === ids.length ? 'ok' : `FAILED: ${promoted} of ${ids.length} promoted`,
  };
}

async function untilNoneQueued(system: BenchSystem): Promise<void> {
  for (;;) {
    const [row] = await system.query<{ queued: number }>(
      "select count(*)::int as queued from purchases where status = 'queued'",
    );
    if (row?.queued === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function audit(
  client: TicketingClient,
  eventId: string,
  options: LoadOptions,
  states: readonly PurchaseState[],
): Promise<string[]> {
  const [status, report] = await Promise.all([client.status(eventId), client.report(eventId)]);
  return auditBooks([
    {
      eventId,
      totalTickets: status.totalTickets,
      soldTickets: status.soldTickets,
      heldTickets: status.heldTickets,
      priceCents: options.priceCents,
      report,
      purchases: states,
    },
  ]);
}

function outcomes(states: readonly PurchaseState[]): string {
  const count = (status: string): number => states.filter((state) => state.status === status).length;
  return `${count('confirmed')} / ${count('waitlisted')} / ${count('cancelled')}`;
}
