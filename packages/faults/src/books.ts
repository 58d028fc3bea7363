import pg from 'pg';
import { drawCommitment, drawKey } from '@ticketing/shared';
import type { Buyers } from './buyers.js';
import { replayQueue, type ReplayPurchase, type ReplayResize } from './queue-replay.js';

/** What the audit needs to know of the buyers: the 202s they got, and what went wrong on their side. */
export type BuyersSeen = Pick<Buyers, 'accepted' | 'duplicated' | 'rejected'>;
import { sleep } from '@ticketing/harness';
import { PLACED_STATUSES } from '@ticketing/shared';

export interface Books {
  readonly accepted: number;
  readonly final: number;
  readonly confirmed: number;
  readonly waitlisted: number;
  /** Accepted (202) purchases Postgres does not have. */
  readonly lost: number;
  /** Purchases booked twice, keys holding two purchases, or keys answered with two purchase ids. */
  readonly duplicated: number;
  /** Tickets sold or held beyond an event's total, over all events. */
  readonly oversold: number;
  /** How long accepted purchases waited from acceptance to their decision: median, p99, longest. */
  readonly waitSeconds: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly violations: readonly string[];
}

/** How the audit reads the books: what the scenario knows besides Postgres. */
export interface AuditOptions {
  /** Quantity 1, more demand than tickets, everyone waiting: the first in line get the tickets. */
  readonly fifo: boolean;
  /**
   * Each event's total at creation (Postgres keeps only the totals resizes gave): the replay of a
   * resized event's queue starts from it. A resized event missing here is reported; without it at
   * all, resized events are not replayed.
   */
  readonly initialTotals?: ReadonlyMap<string, number>;
  /** The api's report of an event (`GET /events/:id/report`): its refund is held to the bookings. */
  readonly report?: (eventId: string) => Promise<{ readonly refundDueCents?: number }>;
}

/**
 * Waits until every operation on a sale is carried out (docs/running-a-sale.md): no resize pending
 * on an event that is not paused, no close numbered but not done, no cancellation unfinished; returns
 * how long that took.
 */
export async function waitSaleOperationsDone(db: pg.Pool, timeoutMs = 120_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    const { rows } = await db
      .query<{ pending: number }>(
        `select (select count(*)::int from event_resizes r join events e on e.id = r.event_id
                 where r.applied_at is null and e.paused_at is null and e.cancelled_at is null)
              + (select count(*)::int from events where close_seq is not null and closed_at is null
                 and paused_at is null and cancelled_at is null)
              + (select count(*)::int from events where cancelled_at is not null
                 and cancellation_finished_at is null) as pending`,
      )
      .catch(() => ({ rows: [{ pending: -1 }] }));
    if (rows[0]?.pending === 0) return Date.now() - started;
    if (Date.now() - started > timeoutMs) return Number.POSITIVE_INFINITY;
    await sleep(200);
  }
}

/** Waits until no accepted purchase is still queued (or pre-queued) in Postgres; returns how long that took. */
export async function waitAllFinal(db: pg.Pool, buyers: BuyersSeen, timeoutMs = 120_000): Promise<number> {
  const ids = [...buyers.accepted.values()].map((accepted) => accepted.purchaseId);
  const started = Date.now();
  for (;;) {
    const { rows } = await db
      .query<{ queued: string }>(
        `select count(*) as queued from purchases where id = any($1::uuid[]) and status in ('queued', 'prequeued')`,
        [ids],
      )
      .catch(() => ({ rows: [{ queued: 'unknown' }] }));
    if (rows[0]?.queued === '0') return Date.now() - started;
    if (Date.now() - started > timeoutMs) return Number.POSITIVE_INFINITY;
    await sleep(200);
  }
}

/**
 * The books, read straight from Postgres: per event sold + held ≤ total and sold = confirmed
 * quantities = active bookings; no purchase booked twice, no idempotency key holding two purchases;
 * every accepted purchase present and decided; no hold confirmed after it ran out; the waiting list in
 * queue order (positions 1..n). With `fifo` (quantity 1, more demand than tickets), the purchases that
 * ever got a ticket (confirmed or held, cancelled after their booking, or expired) are exactly each
 * event's lowest sequence numbers and all the others wait (or, not joining the waiting list, were
 * rejected): a cancellation or an expiry hands its ticket to the head of the line. Purchases
 * cancelled while waiting left the line and are not counted.
 *
 * On an event with a sale start the queue order is the draw's: every entrant of the pre-queue in
 * ascending draw key, then the purchases after the start by `seq`; nothing is decided before the start
 * (by Postgres's clock, which rounds decide by) and the draw itself is made at or after it. A pre-queue
 * cancellation (made at once by the api before the start, its key dropped) is no decision. The draw
 * itself is checked by auditDraws.
 */
/** For the FIFO check, a purchase in these statuses got a ticket (a cancelled one, if it was booked). */
const GOT_A_TICKET = new Set(['confirmed', 'held', 'cancelled', 'expired']);

export async function auditBooks(db: pg.Pool, buyers: BuyersSeen, options: AuditOptions): Promise<Books> {
  const violations: string[] = [];
  const events = await db.query<{
    id: string;
    total: number;
    sold: number;
    held: number;
    confirmedQty: number;
    booked: number;
  }>(`
    select e.id, e.total_tickets as total, e.sold_tickets as sold, e.held_tickets as held,
      (select coalesce(sum(quantity), 0)::int from purchases p where p.event_id = e.id and p.status = 'confirmed') as "confirmedQty",
      (select coalesce(sum(quantity), 0)::int from bookings b where b.event_id = e.id and b.cancelled_at is null) as booked
    from events e`);
  let oversold = 0;
  for (const event of events.rows) {
    // Held tickets are as taken as sold ones (the CHECK counts both).
    if (event.sold + event.held > event.total) oversold += event.sold + event.held - event.total;
    if (event.sold !== event.confirmedQty)
      violations.push(`event ${event.id}: sold ${event.sold}, confirmed quantities ${event.confirmedQty}`);
    if (event.sold !== event.booked)
      violations.push(`event ${event.id}: sold ${event.sold}, active bookings ${event.booked}`);
  }
  if (oversold > 0) violations.push(`${oversold} tickets oversold`);

  const doubleBooked = await db.query(
    `select purchase_id from bookings group by purchase_id having count(*) > 1`,
  );
  const doubleKeyed = await db.query(
    `select event_id, idempotency_key from purchases where idempotency_key is not null
     group by event_id, idempotency_key having count(*) > 1`,
  );
  const twoPlaced = await db.query(
    `select event_id, user_id from purchases where status = any($1::text[])
     group by event_id, user_id having count(*) > 1`,
    [PLACED_STATUSES],
  );
  const duplicated = doubleBooked.rowCount! + doubleKeyed.rowCount! + twoPlaced.rowCount! + buyers.duplicated;
  if (duplicated > 0) {
    violations.push(
      `duplicates: ${doubleBooked.rowCount} purchases booked twice, ${doubleKeyed.rowCount} keys with two purchases, ` +
        `${twoPlaced.rowCount} users placed twice, ${buyers.duplicated} keys answered with two ids`,
    );
  }

  // A booking is written in the transaction whose check found the hold still running (now() is the
  // transaction's start, before that check): one written at or after its hold's end was paid too late.
  const paidLate = await db.query<{ late: number }>(
    `select count(*)::int as late from bookings b join purchases p on p.id = b.purchase_id
     where p.hold_expires_at is not null and b.created_at >= p.hold_expires_at`,
  );
  const late = paidLate.rows[0]?.late ?? 0;
  if (late > 0) violations.push(`${late} holds confirmed after they ran out`);

  const early = await db.query<{ eventId: string; decided: number; drawnEarly: boolean }>(
    `select e.id as "eventId", e.drawn_at < e.sales_start_at as "drawnEarly",
       (select count(*)::int from purchases p
        where p.event_id = e.id and p.processed_at < e.sales_start_at
          and not (p.status = 'cancelled' and p.draw_key is null and p.cancel_seq is null)) as decided
     from events e where e.sales_start_at is not null`,
  );
  for (const event of early.rows) {
    if (event.decided > 0)
      violations.push(`event ${event.eventId}: ${event.decided} purchases decided before the sale start`);
    if (event.drawnEarly) violations.push(`event ${event.eventId}: the draw was made before the sale start`);
  }

  const ids = [...buyers.accepted.values()].map((accepted) => accepted.purchaseId);
  const statuses = await db.query<{ id: string; status: string; waitedMs: number | null }>(
    `select id, status, extract(epoch from processed_at - created_at) * 1000 as "waitedMs"
     from purchases where id = any($1::uuid[])`,
    [ids],
  );
  const waits = statuses.rows.map((row) => Number(row.waitedMs ?? 0) / 1000).sort((a, b) => a - b);
  const at = (share: number) => waits[Math.min(waits.length - 1, Math.floor(share * waits.length))] ?? 0;
  const waitSeconds = { p50: at(0.5), p99: at(0.99), max: waits.at(-1) ?? 0 };
  const count = (status: string) => statuses.rows.filter((row) => row.status === status).length;
  const lost = ids.length - statuses.rowCount!;
  if (lost > 0) violations.push(`${lost} accepted purchases are not in Postgres`);
  const final = statuses.rowCount! - count('queued') - count('prequeued');
  if (final !== ids.length) violations.push(`${ids.length - final} accepted purchases not final`);
  if (buyers.rejected.length > 0)
    violations.push(`${buyers.rejected.length} purchases never accepted, e.g. ${buyers.rejected[0]}`);

  const queue = await db.query<{
    eventId: string;
    id: string;
    status: string;
    entry: string | null;
    booked: boolean;
    joinWaitlist: boolean;
  }>(`
    select p.event_id as "eventId", p.id, p.status, p.join_waitlist as "joinWaitlist",
      w.line_no::text as entry,
      exists (select 1 from bookings b where b.purchase_id = p.id) as booked
    from purchases p left join waitlist_entries w on w.purchase_id = p.id
    order by p.event_id, p.draw_key is null, p.draw_key, p.seq`);
  const byEvent = new Map<string, typeof queue.rows>();
  for (const row of queue.rows) byEvent.set(row.eventId, [...(byEvent.get(row.eventId) ?? []), row]);
  const operations = await auditSaleOperations(db, options);
  violations.push(...operations.violations);
  for (const event of events.rows) {
    const rows = byEvent.get(event.id) ?? [];
    const waiting = rows.filter((row) => row.status === 'waitlisted');
    if (
      waiting.some((row) => row.entry === null) ||
      rows.some((row) => row.entry !== null && row.status !== 'waitlisted')
    )
      violations.push(`event ${event.id}: waiting list and waitlisted purchases differ`);
    // Positions are the order of entries; they must follow the queue order of the purchases.
    const entries = waiting.map((row) => BigInt(row.entry ?? '0'));
    if (entries.some((entry, index) => index > 0 && entry <= (entries[index - 1] ?? 0n)))
      violations.push(
        `event ${event.id}: waiting list out of queue order (line numbers do not follow the draw, then seq)`,
      );
    // A resized or closed event's line is replayed instead; a cancelled one's decisions were cut off.
    if (options.fifo && !operations.replayedOrCancelled.has(event.id)) {
      const inLine = rows.filter((row) => row.status !== 'cancelled' || row.booked);
      const handedBack = inLine.filter(
        (row) => row.status === 'cancelled' || row.status === 'expired',
      ).length;
      const ticketed = event.total + handedBack;
      const expected = inLine.map((row, index) =>
        index < ticketed ? 'confirmed' : row.joinWaitlist ? 'waitlisted' : 'rejected',
      );
      const got = inLine.map((row) => (GOT_A_TICKET.has(row.status) ? 'confirmed' : row.status));
      const firstWrong = got.findIndex((status, index) => status !== expected[index]);
      if (firstWrong !== -1) {
        violations.push(
          `event ${event.id}: not decided in queue order: #${firstWrong + 1} by draw and seq is ${inLine[firstWrong]?.status}, expected ${expected[firstWrong]}`,
        );
      }
    }
  }

  violations.push(...(await auditDraws(db)));

  return {
    accepted: ids.length,
    final,
    confirmed: count('confirmed'),
    waitlisted: count('waitlisted'),
    lost,
    duplicated,
    oversold,
    waitSeconds,
    violations,
  };
}

/** Statuses a purchase of a cancelled event may no longer have: it holds, or may come to hold, tickets. */
const ACTIVE = ['prequeued', 'queued', 'waitlisted', 'held', 'confirmed'];

/**
 * The books of the operations on a sale (docs/running-a-sale.md):
 * - a cancelled event's cancellation finished, no purchase of it left active (each ends cancelled
 *   with reason `event_cancelled`, or stays rejected, expired or cancelled by its buyer), nothing sold
 *   or held, every booking cancelled, the waiting list empty, and the report's `refundDueCents` the
 *   sum of quantity × unit price of the bookings its cancellation cancelled;
 * - a closed event: nobody waiting, no purchase numbered after its close, no ticket booked after it
 *   except by paying for a hold given before;
 * - a resized or closed event's queue replayed (queue-replay.ts): every purchase decided on the total
 *   in force at its place in the line (resizes applied by `seq`), each resize giving what its turn
 *   allows, and the waiting list closed at the close.
 * Returns, too, the events whose line the replay checked or whose cancellation cut it off: the plain
 * FIFO check does not apply to them.
 */
export async function auditSaleOperations(
  db: pg.Pool,
  options: Pick<AuditOptions, 'initialTotals' | 'report'> = {},
): Promise<{ violations: string[]; replayedOrCancelled: Set<string> }> {
  const violations: string[] = [];
  const events = await db.query<{
    id: string;
    total: number;
    sold: number;
    held: number;
    cancelled: boolean;
    cancellationFinished: boolean;
    closedAt: Date | null;
    closeSeq: string | null;
  }>(`
    select id, total_tickets as total, sold_tickets as sold, held_tickets as held,
      cancelled_at is not null as cancelled, cancellation_finished_at is not null as "cancellationFinished",
      closed_at as "closedAt", close_seq::text as "closeSeq"
    from events
    where cancelled_at is not null or close_seq is not null
      or exists (select 1 from event_resizes r where r.event_id = events.id)`);
  const resizes = await db.query<{
    eventId: string;
    seq: string;
    totalTickets: number;
    appliedTotal: number | null;
  }>(
    `select event_id as "eventId", seq::text, total_tickets as "totalTickets", applied_total as "appliedTotal"
     from event_resizes order by seq`,
  );
  const replayedOrCancelled = new Set<string>();
  for (const event of events.rows) {
    const at = `event ${event.id}`;
    replayedOrCancelled.add(event.id);
    if (event.cancelled) {
      violations.push(...(await auditCancelledEvent(db, event, options.report)));
      continue;
    }
    if (event.closedAt !== null) violations.push(...(await auditClosedEvent(db, event.id, event.closedAt)));
    const eventResizes: ReplayResize[] = resizes.rows
      .filter((resize) => resize.eventId === event.id)
      .map((resize) => ({
        seq: Number(resize.seq),
        totalTickets: resize.totalTickets,
        appliedTotal: resize.appliedTotal,
      }));
    const initialTotal = eventResizes.length === 0 ? event.total : options.initialTotals?.get(event.id);
    if (initialTotal === undefined) {
      // An audit told of no event's total (another scenario's in a shared database) leaves it alone.
      if (options.initialTotals !== undefined)
        violations.push(`${at}: resized, but the audit was not told its total at creation`);
      continue;
    }
    const purchases = await db.query<
      Omit<ReplayPurchase, 'seq' | 'cancelSeq' | 'expireSeq'> & {
        seq: string;
        cancelSeq: string | null;
        expireSeq: string | null;
      }
    >(
      `select p.id, p.seq::text, p.draw_key as "drawKey", p.quantity, p.join_waitlist as "joinWaitlist",
         p.status, p.reason, p.cancel_seq::text as "cancelSeq", p.expire_seq::text as "expireSeq",
         p.status in ('confirmed', 'held', 'expired') or p.hold_expires_at is not null
           or exists (select 1 from bookings b where b.purchase_id = p.id) as "gotTickets"
       from purchases p where p.event_id = $1`,
      [event.id],
    );
    const replay = replayQueue({
      initialTotal,
      closeSeq: event.closeSeq === null ? null : Number(event.closeSeq),
      resizes: eventResizes,
      purchases: purchases.rows.map((row) => ({
        ...row,
        seq: Number(row.seq),
        cancelSeq: row.cancelSeq === null ? null : Number(row.cancelSeq),
        expireSeq: row.expireSeq === null ? null : Number(row.expireSeq),
      })),
    });
    for (const fault of replay.resizeFaults) violations.push(`${at}: ${fault}`);
    if (replay.afterClose > 0)
      violations.push(`${at}: ${replay.afterClose} purchases numbered after the close`);
    const first = replay.mismatches[0];
    if (first !== undefined) {
      const what =
        eventResizes.length > 0
          ? `${replay.mismatches.length} purchases decided on the wrong size (or out of queue order)`
          : `${replay.mismatches.length} purchases not decided in queue order`;
      violations.push(
        `${at}: ${what}: the first, #${first.place} by draw and seq (seq ${first.seq}), ended ${first.is}; ` +
          `in its place in the queue, with ${first.totalAtTurn} tickets in force, the replay makes it ${first.replayed}`,
      );
    }
  }
  return { violations, replayedOrCancelled };
}

async function auditCancelledEvent(
  db: pg.Pool,
  event: { id: string; sold: number; held: number; cancellationFinished: boolean },
  report: AuditOptions['report'],
): Promise<string[]> {
  const at = `event ${event.id}`;
  const violations: string[] = [];
  if (!event.cancellationFinished) violations.push(`${at}: cancelled, but its cancellation never finished`);
  if (event.sold !== 0 || event.held !== 0)
    violations.push(`${at}: cancelled, yet ${event.sold} tickets sold and ${event.held} held`);
  const { rows } = await db.query<{
    active: number;
    activeBookings: number;
    waiting: number;
    reasonWithoutCancellation: number;
    refund: string;
  }>(
    `select
       (select count(*)::int from purchases where event_id = $1 and status = any($2::text[])) as active,
       (select count(*)::int from bookings where event_id = $1 and cancelled_at is null) as "activeBookings",
       (select count(*)::int from waitlist_entries where event_id = $1) as waiting,
       (select count(*)::int from purchases where event_id = $1 and reason = 'event_cancelled'
          and status <> 'cancelled') as "reasonWithoutCancellation",
       (select coalesce(sum(b.quantity * b.unit_price_cents), 0)::text from bookings b
          join purchases p on p.id = b.purchase_id
          where b.event_id = $1 and p.reason = 'event_cancelled') as refund`,
    [event.id, ACTIVE],
  );
  const books = rows[0]!;
  if (books.active > 0) violations.push(`${at}: cancelled, yet ${books.active} purchases still active`);
  if (books.activeBookings > 0)
    violations.push(`${at}: cancelled, yet ${books.activeBookings} bookings active`);
  if (books.waiting > 0) violations.push(`${at}: cancelled, yet ${books.waiting} waiting-list entries`);
  if (books.reasonWithoutCancellation > 0)
    violations.push(
      `${at}: ${books.reasonWithoutCancellation} purchases say event_cancelled without being cancelled`,
    );
  if (report !== undefined) {
    const { refundDueCents } = await report(event.id);
    if (refundDueCents !== Number(books.refund))
      violations.push(
        `${at}: the report's refundDueCents is ${refundDueCents}, the bookings its cancellation cancelled were paid ${books.refund}`,
      );
  }
  return violations;
}

async function auditClosedEvent(db: pg.Pool, eventId: string, closedAt: Date): Promise<string[]> {
  const at = `event ${eventId}`;
  const violations: string[] = [];
  const { rows } = await db.query<{ waiting: number; bookedAfter: number }>(
    `select
       (select count(*)::int from purchases where event_id = $1 and status = 'waitlisted') as waiting,
       (select count(*)::int from bookings b join purchases p on p.id = b.purchase_id
          where b.event_id = $1 and b.created_at > $2 and p.hold_expires_at is null) as "bookedAfter"`,
    [eventId, closedAt],
  );
  const books = rows[0]!;
  if (books.waiting > 0) violations.push(`${at}: closed, yet ${books.waiting} purchases waitlisted`);
  if (books.bookedAfter > 0)
    violations.push(
      `${at}: ${books.bookedAfter} tickets booked after the close without a hold given before it`,
    );
  return violations;
}

/**
 * The draws of every event whose start has passed (docs/on-sale.md):
 * - one draw, the committed one: made once the start passed, the commitment SHA-256 of the seed, as
 *   many entrants as purchases holding a key, and every key the HMAC of that seed and its purchase id
 *   (a second draw with another seed could not leave them so);
 * - the pre-queue decided before every later arrival, and in the draw's order across rounds: where no
 *   decision was revisited (no cancellation, expiry or promotion, which restamp `processed_at`), the
 *   decision times never go back along the draw, and no later arrival was decided before the last
 *   entrant. Who got a ticket, and the waiting list's order, are checked against the same line above.
 */
export async function auditDraws(db: pg.Pool): Promise<string[]> {
  const violations: string[] = [];
  const events = await db.query<{
    id: string;
    seed: Buffer;
    commitment: string;
    drawnAt: Date | null;
    entrants: number | null;
  }>(`
    select id, draw_seed as seed, draw_commitment as commitment, drawn_at as "drawnAt",
      draw_entrants as entrants
    from events where sales_start_at is not null and sales_start_at <= now()`);
  for (const event of events.rows) {
    const at = `event ${event.id}`;
    if (drawCommitment(event.seed) !== event.commitment)
      violations.push(`${at}: the commitment is not SHA-256 of the seed`);
    const line = await db.query<{
      id: string;
      key: string | null;
      decidedAt: Date | null;
      revisited: boolean;
    }>(
      `select id, draw_key as key, processed_at as "decidedAt",
         status in ('cancelled', 'expired') or cancel_seq is not null as revisited
       from purchases where event_id = $1 order by draw_key is null, draw_key, seq`,
      [event.id],
    );
    const entrants = line.rows.filter((row) => row.key !== null);
    if (entrants.length > 0 && event.drawnAt === null)
      violations.push(`${at}: the start passed, no draw made`);
    if (event.drawnAt !== null && event.entrants !== entrants.length)
      violations.push(`${at}: the draw counts ${event.entrants} entrants, ${entrants.length} have a key`);
    const foreign = entrants.filter((row) => row.key !== drawKey(event.seed, row.id)).length;
    if (foreign > 0) violations.push(`${at}: ${foreign} draw keys are not the HMAC of the seed and the id`);
    if (line.rows.some((row) => row.revisited)) continue;
    const times = entrants.map((row) => row.decidedAt?.getTime() ?? Number.POSITIVE_INFINITY);
    if (times.some((t, i) => i > 0 && times[i - 1]! > t))
      violations.push(`${at}: the pre-queue was not decided in the draw's order (decision times go back)`);
    const lastEntrant = Math.max(...times, Number.NEGATIVE_INFINITY);
    const overtook = line.rows.filter(
      (row) => row.key === null && (row.decidedAt?.getTime() ?? Number.POSITIVE_INFINITY) < lastEntrant,
    ).length;
    if (overtook > 0)
      violations.push(`${at}: ${overtook} purchases made after the start were decided before the pre-queue`);
  }
  return violations;
}

/**
 * The same audit on a database of its own connections, for tests that run the system in-process (the
 * negative controls): a pool that is opened, used and closed.
 */
export async function auditDatabase(
  databaseUrl: string,
  buyers: BuyersSeen,
  options: AuditOptions,
): Promise<Books> {
  const db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  // Dropping the test's database ends the connections; an ending client must not crash the run.
  db.on('error', () => {});
  db.on('connect', (client) => client.on('error', () => {}));
  try {
    return await auditBooks(db, buyers, options);
  } finally {
    await db.end();
  }
}
