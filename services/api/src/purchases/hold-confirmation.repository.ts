import {
  unsafeSwitches,
  type OutboxRecorder,
  type PurchaseStatus,
  type Tx,
  type Db,
} from '@ticketing/shared';
import { sql } from 'kysely';

/** What stood in the way of a confirmation. */
export interface UnconfirmedHold {
  readonly status: PurchaseStatus;
  readonly cancelRequested: boolean;
  /** Past `holdExpiresAt` by the database's clock (or never held). */
  readonly pastHoldExpiry: boolean;
  /** The payment reference of its booking, once confirmed. */
  readonly paymentReference: string | null;
  readonly eventCancelled: boolean;
}

/** A shop's confirmation of one hold. */
export interface HoldPayment {
  readonly purchaseId: string;
  readonly paymentReference: string | null;
}

const withinHold = unsafeSwitches['confirm-past-expiry']
  ? sql`true`
  : sql`p.hold_expires_at > clock_timestamp()`;

/**
 * Confirms holds, in the caller's transaction, however many there are (an event's confirmations
 * queue behind its row lock, so each commit of theirs is one flush of the log the others wait for:
 * the caller confirms a batch in one transaction). Each purchase
 * confirmed becomes confirmed, its tickets move from held to sold, and it gets its booking with the
 * payment reference. Returns the ids of the purchases confirmed; for the others, findUnconfirmedHold
 * says why not. A purchase named twice is confirmed by its first payment.
 *
 * The events' row locks come first, in id order, in a statement of their own, the way a drain round
 * takes them (events, then their purchases): a confirmation and the round expiring the same hold can
 * neither deadlock nor both win, and the statement that then changes the rows starts after the locks,
 * seeing the events as they are. (Locking and updating an event in one statement deadlocks two such
 * statements: the update goes back to the version its snapshot saw, behind a waiter queued on it.)
 * A purchase moves only if it is still held, not being cancelled, and not past `hold_expires_at` by
 * the database's clock at that moment (`clock_timestamp()`, not the transaction's start: the locks may
 * have been waited for). So a hold past its time is never confirmed, whether or not its expiry was
 * carried out yet, and nothing of a cancelled event is (its cancellation takes the same row lock). The confirmations are recorded in `outbox` in the same transaction, for webhooks.
 */
export async function confirmHeldPurchases(
  tx: Tx,
  payments: readonly HoldPayment[],
  outbox: OutboxRecorder,
): Promise<Set<string>> {
  if (payments.length === 0) return new Set();
  const purchaseIds = payments.map((payment) => payment.purchaseId);
  await sql`
    select e.id from events e
    where e.id in (select p.event_id from purchases p where p.id = any(${purchaseIds}::uuid[]))
    order by e.id
    for no key update`.execute(tx);
  const { rows } = await sql<{ purchaseId: string; bookingId: string }>`
    with payment as (
      select distinct on (r.id) r.id, r.reference
      from unnest(${purchaseIds}::uuid[], ${payments.map((payment) => payment.paymentReference)}::text[])
        with ordinality as r(id, reference, n)
      order by r.id, r.n
    ), confirmed as (
      update purchases p set status = 'confirmed'
      from payment
      where p.id = payment.id and p.status = 'held' and p.cancel_requested_at is null
        and ${withinHold}
        and not exists (select from events e where e.id = p.event_id and e.cancelled_at is not null)
      returning p.id, p.event_id, p.user_id, p.quantity, payment.reference
    ), sold as (
      update events e set held_tickets = e.held_tickets - c.tickets, sold_tickets = e.sold_tickets + c.tickets
      from (select event_id, sum(quantity)::integer as tickets from confirmed group by event_id) c
      where e.id = c.event_id
      returning e.id, e.price_cents
    )
    insert into bookings (id, purchase_id, event_id, user_id, quantity, unit_price_cents, payment_reference)
    select gen_random_uuid(), c.id, c.event_id, c.user_id, c.quantity, sold.price_cents, c.reference
    from confirmed c join sold on sold.id = c.event_id
    returning purchase_id, id as booking_id`.execute(tx);
  await outbox.record(
    tx,
    rows.map((row) => ({
      purchaseId: row.purchaseId,
      status: 'confirmed',
      bookingId: row.bookingId,
      paidHold: true,
    })),
    new Date(),
  );
  return new Set(rows.map((row) => row.purchaseId));
}

/** The purchase as it stands, with what a confirmation looks at; undefined when there is none. */
export async function findUnconfirmedHold(db: Db, purchaseId: string): Promise<UnconfirmedHold | undefined> {
  const { rows } = await sql<UnconfirmedHold>`
    select p.status, p.cancel_requested_at is not null as cancel_requested,
      coalesce(p.hold_expires_at <= clock_timestamp(), true) as past_hold_expiry,
      b.payment_reference, e.cancelled_at is not null as event_cancelled
    from purchases p join events e on e.id = p.event_id
      left join bookings b on b.purchase_id = p.id
    where p.id = ${purchaseId}`.execute(db);
  return rows[0];
}
