import { TicketingClient, mapLimit, type LoadOptions } from '../../packages/loadtest/src/index.js';
import { cpuPerUnit, type BenchSystem, type ResultRow } from '../bench-types.js';
import { DecisionWatch } from '../decisions.js';

/**
 * The on-sale moment (docs/on-sale.md): one event whose sale starts later; `prequeued` buyers enter
 * the pre-queue as fast as the load client can submit them (one worker running, deciding nothing);
 * at the start the worker draws and decides the pre-queue while `later` buyers arrive at `laterRate`
 * a second and queue behind it. Three figures: the pre-queue's accept rate (`onsale-accept`, against
 * `accept`), the drawn pre-queue's decision rate from its first decision to its last (`onsale-draw`,
 * against `drain`), and the time from `salesStartAt` to the first decision. The books are checked in
 * Postgres: nothing decided before the start, the pre-queue in drawn order and before every later
 * arrival, nothing left undecided.
 */
export interface OnSalePlan {
  readonly prequeued: number;
  readonly later: number;
  readonly laterRate: number;
  /** The start is this long after the event is made, plus a second per `acceptPerSecond` purchases. */
  readonly acceptPerSecond: number;
}

export async function runOnSale(
  system: BenchSystem,
  what: string,
  options: LoadOptions,
  plan: OnSalePlan,
  progress: (line: string) => void,
): Promise<ResultRow[]> {
  const client = new TicketingClient(system.url, options.concurrency + 16, options.adminToken);
  try {
    await system.startWorkers(1);
    // The start is fixed when the event is made: far enough for the pre-queue to fill on a slow machine.
    const startAt = Date.now() + 5_000 + (plan.prequeued / plan.acceptPerSecond) * 1000;
    const salesStartAt = new Date(startAt).toISOString();
    const event = await client.createEvent({
      name: 'bench onsale',
      totalTickets: options.tickets,
      priceCents: options.priceCents,
      salesStartAt,
    });
    const submit = async (index: number): Promise<string> =>
      (await client.submitPurchase(event.id, { userId: `u${index}`, quantity: 1 }, `k${index}`)).status;

    const acceptStart = await system.cpu();
    const acceptBegan = performance.now();
    const accepted = await mapLimit(
      Array.from({ length: plan.prequeued }, (_, index) => index),
      options.concurrency,
      submit,
    );
    const acceptSeconds = (performance.now() - acceptBegan) / 1000;
    const acceptEnd = await system.cpu();
    const entrants = accepted.filter((status) => status === 'prequeued').length;
    progress(`${entrants} of ${plan.prequeued} pre-queued in ${acceptSeconds.toFixed(1)} s`);
    if (Date.now() >= startAt)
      progress('the pre-queue was still filling at the start: raise acceptPerSecond');

    const watch = await DecisionWatch.start(system);
    let firstDecisionMs = 0;
    let drawSeconds = 0;
    let drawStart = acceptEnd;
    let drawEnd = acceptEnd;
    try {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt - Date.now())));
      // Later buyers arrive at a steady pace from the start, while the pre-queue is decided.
      const laterBegan = performance.now();
      const later = mapLimit(
        Array.from({ length: plan.later }, (_, index) => plan.prequeued + index),
        options.concurrency,
        async (index) => {
          const due = laterBegan + ((index - plan.prequeued) * 1000) / plan.laterRate;
          if (due > performance.now())
            await new Promise((resolve) => setTimeout(resolve, due - performance.now()));
          return submit(index);
        },
      );
      await watch.first();
      firstDecisionMs = Date.now() - startAt - (performance.now() - watch.firstAt!);
      drawStart = await system.cpu();
      await watch.reached(entrants);
      drawEnd = await system.cpu();
      drawSeconds = ((watch.reachedAt ?? watch.lastAt) - watch.firstAt!) / 1000 || 0.001;
      await later;
      await watch.until(system, entrants + plan.later);
    } finally {
      watch.close();
    }
    progress(
      `first decision ${Math.round(firstDecisionMs)} ms after the start; pre-queue decided in ${drawSeconds.toFixed(2)} s`,
    );

    const violations = await auditOnSaleBooks(system);
    const audit = violations.length === 0 ? 'ok' : `FAILED: ${violations.slice(0, 3).join('; ')}`;
    return [
      {
        name: 'onsale-accept',
        what: `${what}: ${entrants} of ${accepted.length} buyers enter the pre-queue (one worker running, deciding nothing); the rest came after the start`,
        units: accepted.length,
        unit: 'purchase',
        perSecond: Math.round(accepted.length / acceptSeconds),
        cpuMicros: cpuPerUnit(acceptStart, acceptEnd, accepted.length),
        errors: 0,
        audit,
      },
      {
        name: 'onsale-draw',
        what: `then the drawn pre-queue is decided (first decision to the ${entrants}th) while ${plan.later} more arrive at ${plan.laterRate}/s; the first decision came ${Math.round(firstDecisionMs)} ms after salesStartAt`,
        units: entrants,
        unit: 'purchase',
        perSecond: Math.round(entrants / drawSeconds),
        cpuMicros: cpuPerUnit(drawStart, drawEnd, entrants),
        errors: 0,
        audit,
        startToFirstDecisionMs: Math.round(firstDecisionMs),
      },
    ];
  } finally {
    await client.close();
  }
}

/** The on-sale's books in Postgres, kept cheap: aggregates only. */
async function auditOnSaleBooks(system: BenchSystem): Promise<string[]> {
  const [row] = await system.query<{
    early: number;
    undecided: number;
    backwards: number;
    overtaken: number;
    notConfirmed: number;
  }>(`
    with e as (select id, sales_start_at from events)
    select
      (select count(*)::int from purchases p join e on e.id = p.event_id where p.processed_at < e.sales_start_at) as early,
      (select count(*)::int from purchases where status in ('queued', 'prequeued')) as undecided,
      (select count(*)::int from (
         select processed_at < lag(processed_at) over (partition by event_id order by draw_key) as back
         from purchases where draw_key is not null) d where back) as backwards,
      (select count(*)::int from purchases l join (
         select event_id, max(processed_at) as last_entrant from purchases where draw_key is not null
         group by event_id) d on d.event_id = l.event_id
       where l.draw_key is null and l.processed_at < d.last_entrant) as overtaken,
      (select count(*)::int from purchases where status <> 'confirmed') as "notConfirmed"`);
  const violations: string[] = [];
  if (row === undefined) return ['the books could not be read'];
  if (row.early > 0) violations.push(`${row.early} purchases decided before the start`);
  if (row.undecided > 0) violations.push(`${row.undecided} purchases left undecided`);
  if (row.backwards > 0) violations.push(`${row.backwards} pre-queue decisions out of drawn order`);
  if (row.overtaken > 0) violations.push(`${row.overtaken} later arrivals decided before the pre-queue`);
  if (row.notConfirmed > 0) violations.push(`${row.notConfirmed} purchases not confirmed (tickets for all)`);
  return violations;
}
