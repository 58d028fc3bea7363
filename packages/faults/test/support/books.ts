import pg from 'pg';
import { drawCommitment, drawKey } from '@ticketing/shared';
import type { Buyers } from './buyers.js';

/** What the audit needs to know of the buyers: the 202s they got, and what went wrong on their side. */
export type BuyersSeen = Pick<Buyers, 'accepted' | 'duplicated' | 'rejected'>;
import { sleep } from '@ticketing/harness';

export interface Books {
  readonly accepted: number;
  readonly final: number;
  readonly confirmed: number;
  readonly waitlisted: number;
  /** Accepted (202) purchases Postgres does not have. */
  readonly lost: number;
  /** Purchases booked twice, keys holding two purchases, or keys answered with two purchase ids. */
  readonly duplicated: number;
  /** Tickets sold beyond an event's total, over all events. */
  readonly oversold: number;
  /** How long accepted purchases waited from acceptance to their decision: median, p99, longest. */
  readonly waitSeconds: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly violations: readonly string[];
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
 * The books, read straight from Postgres: per event sold ≤ total and sold = confirmed quantities =
 * active bookings; no purchase booked twice, no idempotency key holding two purchases; every accepted
 * purchase present and decided; no hold confirmed after it ran out; the waiting list in queue order
 * (positions 1..n). Queue order is the draw's for an event's pre-queue (ascending draw key), all of it
 * ahead of the purchases made after the start, and `seq` for those: see auditOnSale for the rest of
 * the on-sale. With `fifo` (quantity
 * 1, every purchase joining the waiting list, more demand than tickets), the purchases that ever got a
 * ticket (confirmed, or cancelled after their booking) are exactly each event's lowest sequence
 * numbers and all the others still wait: a cancellation hands its ticket to the head of the line.
 * Purchases cancelled while waiting left the line and are not counted.
 */
export async function auditBooks(
  db: pg.Pool,
  buyers: BuyersSeen,
  options: { fifo: boolean },
): Promise<Books> {
  const violations: string[] = [];
  const events = await db.query<{
    id: string;
    total: number;
    sold: number;
    confirmedQty: number;
    booked: number;
  }>(`
    select e.id, e.total_tickets as total, e.sold_tickets as sold,
      (select coalesce(sum(quantity), 0)::int from purchases p where p.event_id = e.id and p.status = 'confirmed') as "confirmedQty",
      (select coalesce(sum(quantity), 0)::int from bookings b where b.event_id = e.id and b.cancelled_at is null) as booked
    from events e`);
  let oversold = 0;
  for (const event of events.rows) {
    if (event.sold > event.total) oversold += event.sold - event.total;
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
  const twoActive = await db.query(
    `select event_id, user_id from purchases where status in ('held', 'confirmed', 'waitlisted')
     group by event_id, user_id having count(*) > 1`,
  );
  const duplicated = doubleBooked.rowCount! + doubleKeyed.rowCount! + twoActive.rowCount! + buyers.duplicated;
  if (duplicated > 0) {
    violations.push(
      `duplicates: ${doubleBooked.rowCount} purchases booked twice, ${doubleKeyed.rowCount} keys with two purchases, ` +
        `${twoActive.rowCount} users active twice, ${buyers.duplicated} keys answered with two ids`,
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
    drawn: boolean;
  }>(`
    select p.event_id as "eventId", p.id, p.status, w.line_no::text as entry, p.draw_key is not null as drawn,
      exists (select 1 from bookings b where b.purchase_id = p.id) as booked
    from purchases p left join waitlist_entries w on w.purchase_id = p.id
    order by p.event_id, p.draw_key is null, p.draw_key, p.seq`);
  const byEvent = new Map<string, typeof queue.rows>();
  for (const row of queue.rows) byEvent.set(row.eventId, [...(byEvent.get(row.eventId) ?? []), row]);
  for (const event of events.rows) {
    const rows = byEvent.get(event.id) ?? [];
    // An on-sale's line is its drawn pre-queue, then the later arrivals by seq.
    const line = rows.some((row) => row.drawn) ? 'in line (the draw, then seq)' : 'by seq';
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
        `event ${event.id}: waiting list out of queue order (line numbers do not follow ${line})`,
      );
    if (options.fifo) {
      const inLine = rows.filter((row) => row.status !== 'cancelled' || row.booked);
      const handedBack = inLine.filter((row) => row.status === 'cancelled').length;
      const ticketed = event.total + handedBack;
      const expected = inLine.map((_row, index) => (index < ticketed ? 'confirmed' : 'waitlisted'));
      const got = inLine.map((row) => (row.status === 'cancelled' ? 'confirmed' : row.status));
      const firstWrong = got.findIndex((status, index) => status !== expected[index]);
      if (firstWrong !== -1) {
        violations.push(
          `event ${event.id}: not decided in queue order: #${firstWrong + 1} ${line} is ${inLine[firstWrong]?.status}, expected ${expected[firstWrong]}`,
        );
      }
    }
  }

  violations.push(...(await auditOnSale(db)));

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

/**
 * The on-sale of every event with a sale start (docs/on-sale.md), once its start has passed:
 * - nothing decided before the start: no purchase processed, no booking written before it;
 * - one draw, the committed one: the commitment is SHA-256 of the seed, the draw made at or after the
 *   start with as many entrants as pre-queued purchases kept a key, and every key is the HMAC of that
 *   seed and its purchase id (a second draw with another seed could not leave them so);
 * - decided in the draw's order and before every later arrival: decision times never go back along
 *   the draw, and none made after the start was decided before the last entrant. Who got a ticket and
 *   the waiting list's order are checked against the same line in auditBooks.
 */
export async function auditOnSale(db: pg.Pool): Promise<string[]> {
  const violations: string[] = [];
  const events = await db.query<{
    id: string;
    start: Date;
    seed: Buffer;
    commitment: string;
    drawnAt: Date | null;
    entrants: number | null;
  }>(`
    select id, sales_start_at as start, draw_seed as seed, draw_commitment as commitment,
      drawn_at as "drawnAt", draw_entrants as entrants
    from events where sales_start_at is not null and sales_start_at <= now()`);
  for (const event of events.rows) {
    const at = `event ${event.id}`;
    const early = await db.query<{ purchases: number; bookings: number }>(
      `select (select count(*)::int from purchases where event_id = $1 and processed_at < $2) as purchases,
        (select count(*)::int from bookings where event_id = $1 and created_at < $2) as bookings`,
      [event.id, event.start],
    );
    const { purchases: earlyPurchases = 0, bookings: earlyBookings = 0 } = early.rows[0] ?? {};
    if (earlyPurchases + earlyBookings > 0)
      violations.push(
        `${at}: decided before the sale start: ${earlyPurchases} purchases, ${earlyBookings} bookings`,
      );
    if (drawCommitment(event.seed) !== event.commitment)
      violations.push(`${at}: the commitment is not SHA-256 of the seed`);
    const line = await db.query<{ id: string; key: string | null; decidedAt: Date | null }>(
      `select id, draw_key as key, processed_at as "decidedAt" from purchases where event_id = $1
       order by draw_key is null, draw_key, seq`,
      [event.id],
    );
    const entrants = line.rows.filter((row) => row.key !== null);
    const later = line.rows.filter((row) => row.key === null);
    if (entrants.length > 0 && event.drawnAt === null)
      violations.push(`${at}: the start passed, no draw made`);
    if (event.drawnAt !== null && event.drawnAt < event.start)
      violations.push(`${at}: drawn at ${event.drawnAt.toISOString()}, before the start`);
    if (event.drawnAt !== null && event.entrants !== entrants.length)
      violations.push(`${at}: the draw counts ${event.entrants} entrants, ${entrants.length} have a key`);
    const foreign = entrants.filter((row) => row.key !== drawKey(event.seed, row.id)).length;
    if (foreign > 0) violations.push(`${at}: ${foreign} draw keys are not the HMAC of the seed and the id`);
    const times = entrants.map((row) => row.decidedAt?.getTime());
    if (times.some((t, i) => i > 0 && t !== undefined && (times[i - 1] ?? Infinity) > t))
      violations.push(`${at}: the pre-queue was not decided in the draw's order (decision times go back)`);
    const lastEntrant = Math.max(...times.map((t) => t ?? -Infinity));
    const overtook = later.filter((row) => (row.decidedAt?.getTime() ?? Infinity) < lastEntrant).length;
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
  options: { fifo: boolean },
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
