import type pg from 'pg';
import { sleep } from '@ticketing/harness';

const FINAL_HOLD_STATES: ReadonlySet<string> = new Set(['confirmed', 'cancelled', 'expired']);

/**
 * The shops' side of holds: every purchase found held is paid for (confirmed through the api) by the
 * buyers who pay, chosen by purchase id so the choice stands across retries; the others let their
 * hold run out. Reads the held purchases straight from Postgres, as a shop's webhook would tell it.
 */
export class Payers {
  readonly paid = new Set<string>();
  /** Confirmations answered 409: the hold had run out (a buyer too slow, or the worker away long). */
  readonly tooLate = new Set<string>();
  private stopped = false;
  private readonly loop: Promise<void>;

  constructor(
    private readonly db: pg.Pool,
    private readonly baseUrl: () => string,
    /** Whether the buyer of this purchase pays. */
    readonly pays: (purchaseId: string) => boolean,
  ) {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const { rows } = await this.db
        .query<{ id: string }>(`select id from purchases where status = 'held'`)
        .catch(() => ({ rows: [] as { id: string }[] }));
      const due = rows.filter(
        (row) => this.pays(row.id) && !this.paid.has(row.id) && !this.tooLate.has(row.id),
      );
      await Promise.all(due.map((row) => this.confirm(row.id)));
      await sleep(100);
    }
  }

  private async confirm(purchaseId: string): Promise<void> {
    const response = await fetch(`${this.baseUrl()}/purchases/${purchaseId}/confirm`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ paymentReference: `pay-${purchaseId}` }),
      signal: AbortSignal.timeout(10_000),
    }).catch(() => undefined);
    // Anything else (a network error, a 503) is tried again on the next pass.
    if (response?.status === 200) this.paid.add(purchaseId);
    else if (response?.status === 409) this.tooLate.add(purchaseId);
    await response?.text();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

/** Waits until no purchase is held any more: every hold has been confirmed, cancelled or expired. */
export async function waitAllHoldsEnded(db: pg.Pool, timeoutMs = 180_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    const { rows } = await db
      .query<{ held: string }>(`select count(*) as held from purchases where status = 'held'`)
      .catch(() => ({ rows: [{ held: 'unknown' }] }));
    if (rows[0]?.held === '0') return Date.now() - started;
    if (Date.now() - started > timeoutMs) return Number.POSITIVE_INFINITY;
    await sleep(200);
  }
}

export interface HoldBooks {
  /** Purchases that were ever held, and how they ended. */
  readonly holds: number;
  readonly confirmed: number;
  readonly expired: number;
  readonly cancelled: number;
  readonly violations: readonly string[];
}

/**
 * The books of holds, straight from Postgres: every purchase ever held ended in exactly one final
 * state (confirmed with its booking and payment reference, booked before its hold ran out; expired or
 * cancelled with no booking, an expired one through a queued expiry); no ticket is held any more, and
 * none is free while the head of its line fits it; and, per event (quantity 1, no cancellations),
 * holds were given out in queue order and nobody still waiting is ahead of anyone who got one.
 */
export async function auditHolds(db: pg.Pool): Promise<HoldBooks> {
  const violations: string[] = [];
  const events = await db.query<{
    id: string;
    held: number;
    heldQty: number;
    free: number;
    headQty: number | null;
  }>(`
    select e.id, e.held_tickets as held,
      (select coalesce(sum(quantity), 0)::int from purchases p where p.event_id = e.id and p.status = 'held') as "heldQty",
      e.total_tickets - e.sold_tickets - e.held_tickets as free,
      (select w.quantity from waitlist_entries w where w.event_id = e.id order by w.line_no limit 1) as "headQty"
    from events e`);
  for (const event of events.rows) {
    if (event.held !== 0 || event.heldQty !== 0)
      violations.push(
        `event ${event.id}: ${event.held} tickets still held (${event.heldQty} by held purchases)`,
      );
    // Every seat ends sold or with the next in line: none is free while the head of the line fits it.
    if (event.headQty !== null && event.headQty <= event.free)
      violations.push(`event ${event.id}: ${event.free} tickets free while the head of the line waits`);
  }

  const { rows } = await db.query<{
    eventId: string;
    id: string;
    status: string;
    expiresAt: Date;
    expireSeq: string | null;
    bookingId: string | null;
    bookedAt: Date | null;
    paymentReference: string | null;
  }>(`
    select p.event_id as "eventId", p.id, p.status, p.hold_expires_at as "expiresAt", p.expire_seq::text as "expireSeq",
      b.id as "bookingId", b.created_at as "bookedAt", b.payment_reference as "paymentReference"
    from purchases p left join bookings b on b.purchase_id = p.id and b.cancelled_at is null
    where p.hold_expires_at is not null
    order by p.event_id, p.seq`);
  const count = (status: string) => rows.filter((row) => row.status === status).length;
  for (const row of rows) {
    const at = `hold ${row.id}`;
    if (!FINAL_HOLD_STATES.has(row.status)) violations.push(`${at} ended ${row.status}`);
    if (row.status === 'confirmed') {
      if (row.bookingId === null) violations.push(`${at} is confirmed without a booking`);
      else if (row.paymentReference !== `pay-${row.id}`)
        violations.push(`${at} is booked with payment reference ${row.paymentReference}`);
      else if ((row.bookedAt?.getTime() ?? 0) >= row.expiresAt.getTime())
        violations.push(`${at} was confirmed after its hold ran out`);
    } else if (row.bookingId !== null) violations.push(`${at} is ${row.status} yet booked`);
    if (row.status === 'expired' && row.expireSeq === null)
      violations.push(`${at} expired without a place in the queue`);
  }

  const queue = await db.query<{ eventId: string; status: string; expiresAt: Date | null }>(`
    select event_id as "eventId", status, hold_expires_at as "expiresAt" from purchases order by event_id, seq`);
  for (const event of events.rows) {
    const line = queue.rows.filter((row) => row.eventId === event.id);
    const firstWaiting = line.findIndex((row) => row.expiresAt === null);
    const skipped =
      firstWaiting === -1 ? [] : line.slice(firstWaiting).filter((row) => row.expiresAt !== null);
    if (skipped.length > 0)
      violations.push(
        `event ${event.id}: ${skipped.length} purchases got a hold while one before them still waits`,
      );
    const starts = line.filter((row) => row.expiresAt !== null).map((row) => row.expiresAt?.getTime() ?? 0);
    if (starts.some((start, index) => index > 0 && start < (starts[index - 1] ?? 0)))
      violations.push(`event ${event.id}: holds were not given out in queue order`);
  }
  return {
    holds: rows.length,
    confirmed: count('confirmed'),
    expired: count('expired'),
    cancelled: count('cancelled'),
    violations,
  };
}
