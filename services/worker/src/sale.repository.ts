import { randomUUID } from 'node:crypto';
import type {
  Database,
  EventRow,
  PendingPurchase,
  PurchaseRow,
  RejectionReason,
  Settlement,
  WaitlistEntry,
} from '@ticketing/shared';
import type { Transaction } from 'kysely';

type Tx = Transaction<Database>;

/**
 * Takes the event's row lock for the rest of the transaction. Every decision about an event happens
 * under this lock, so two workers (say, one that lost its BullMQ lock and did not notice) can never
 * interleave their decisions about the same event.
 */
export async function lockEvent(tx: Tx, eventId: string): Promise<EventRow | undefined> {
  return tx.selectFrom('events').selectAll().where('id', '=', eventId).forUpdate().executeTakeFirst();
}

export async function findPurchase(tx: Tx, purchaseId: string): Promise<PurchaseRow | undefined> {
  return tx.selectFrom('purchases').selectAll().where('id', '=', purchaseId).executeTakeFirst();
}

/** Undecided purchases of the event in the order Postgres accepted them, up to a sequence number. */
export async function findQueuedPurchases(
  tx: Tx,
  eventId: string,
  upToSeq: number,
  limit: number,
): Promise<PendingPurchase[]> {
  return tx
    .selectFrom('purchases')
    .select(['id', 'userId', 'quantity', 'joinWaitlist'])
    .where('eventId', '=', eventId)
    .where('status', '=', 'queued')
    .where('seq', '<=', upToSeq)
    .orderBy('seq')
    .limit(limit)
    .execute();
}

/** The earliest cancellation of the event requested up to `upToSeq` and not yet carried out. */
export async function findNextPendingCancellation(
  tx: Tx,
  eventId: string,
  upToSeq: number,
): Promise<{ purchaseId: string; cancelSeq: number } | undefined> {
  const row = await tx
    .selectFrom('purchases')
    .select(['id', 'cancelSeq'])
    .where('eventId', '=', eventId)
    .where('cancelSeq', '<=', upToSeq)
    .where('status', 'in', ['queued', 'confirmed', 'waitlisted'])
    .orderBy('cancelSeq')
    .limit(1)
    .executeTakeFirst();
  return row?.cancelSeq == null ? undefined : { purchaseId: row.id, cancelSeq: row.cancelSeq };
}

export async function countWaitlist(tx: Tx, eventId: string): Promise<number> {
  const row = await tx
    .selectFrom('waitlistEntries')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('eventId', '=', eventId)
    .executeTakeFirstOrThrow();
  return row.count;
}

/** Which of these users already hold a confirmed or waitlisted purchase of the event. */
export async function findActiveUsers(
  tx: Tx,
  eventId: string,
  userIds: readonly string[],
): Promise<Set<string>> {
  if (userIds.length === 0) return new Set();
  const rows = await tx
    .selectFrom('purchases')
    .select('userId')
    .distinct()
    .where('eventId', '=', eventId)
    .where('userId', 'in', userIds)
    .where('status', 'in', ['confirmed', 'waitlisted'])
    .execute();
  return new Set(rows.map((row) => row.userId));
}

export interface Allocation {
  readonly purchaseId: string;
  readonly userId: string;
  readonly quantity: number;
}

/** The new state of purchases a transaction settles, and when it settled them. */
const settled = (
  purchaseId: string,
  decidedAt: Date,
  state: Pick<Settlement, 'status'> & Partial<Settlement>,
): Settlement => ({
  id: purchaseId,
  bookingId: null,
  waitlistPosition: null,
  reason: null,
  processedAt: decidedAt.toISOString(),
  ...state,
});

/**
 * Books tickets for purchases that were queued or waiting. The conditional update is the last line of
 * defence against overselling (with the table's CHECK behind it): if it would oversell, nothing commits.
 */
export async function confirmPurchases(
  tx: Tx,
  event: EventRow,
  allocations: readonly Allocation[],
  decidedAt: Date,
): Promise<Settlement[]> {
  if (allocations.length === 0) return [];
  const tickets = allocations.reduce((sum, allocation) => sum + allocation.quantity, 0);
  const updated = await tx
    .updateTable('events')
    .set((eb) => ({ soldTickets: eb('soldTickets', '+', tickets) }))
    .where('id', '=', event.id)
    .where((eb) => eb(eb('soldTickets', '+', tickets), '<=', eb.ref('totalTickets')))
    .executeTakeFirst();
  if (updated.numUpdatedRows !== 1n) throw new Error(`Refusing to oversell event ${event.id}`);

  const bookings = allocations.map((allocation) => ({
    id: randomUUID(),
    purchaseId: allocation.purchaseId,
    eventId: event.id,
    userId: allocation.userId,
    quantity: allocation.quantity,
    unitPriceCents: event.priceCents,
  }));
  await tx.insertInto('bookings').values(bookings).execute();
  await setStatus(
    tx,
    allocations.map((allocation) => allocation.purchaseId),
    ['queued', 'waitlisted'],
    { status: 'confirmed' },
    decidedAt,
  );
  return bookings.map((booking) =>
    settled(booking.purchaseId, decidedAt, { status: 'confirmed', bookingId: booking.id }),
  );
}

/** Appends purchases to the tail of the waiting list, in the order given. */
export async function waitlistPurchases(
  tx: Tx,
  eventId: string,
  purchases: readonly (Allocation & { waitlistPosition: number })[],
  decidedAt: Date,
): Promise<Settlement[]> {
  if (purchases.length === 0) return [];
  await tx
    .insertInto('waitlistEntries')
    .values(
      purchases.map((purchase) => ({
        purchaseId: purchase.purchaseId,
        eventId,
        quantity: purchase.quantity,
      })),
    )
    .execute();
  await setStatus(
    tx,
    purchases.map((purchase) => purchase.purchaseId),
    ['queued'],
    { status: 'waitlisted' },
    decidedAt,
  );
  return purchases.map((purchase) =>
    settled(purchase.purchaseId, decidedAt, {
      status: 'waitlisted',
      waitlistPosition: purchase.waitlistPosition,
    }),
  );
}

export async function rejectPurchases(
  tx: Tx,
  purchaseIds: readonly string[],
  reason: RejectionReason,
  decidedAt: Date,
): Promise<Settlement[]> {
  await setStatus(tx, purchaseIds, ['queued'], { status: 'rejected', reason }, decidedAt);
  return purchaseIds.map((id) => settled(id, decidedAt, { status: 'rejected', reason }));
}

/** Frees a confirmed purchase's tickets and marks it cancelled. */
export async function releaseBooking(tx: Tx, purchaseId: string, decidedAt: Date): Promise<Settlement> {
  const booking = await tx
    .updateTable('bookings')
    .set({ cancelledAt: decidedAt })
    .where('purchaseId', '=', purchaseId)
    .where('cancelledAt', 'is', null)
    .returning(['eventId', 'quantity'])
    .executeTakeFirst();
  if (booking === undefined) throw new Error(`Confirmed purchase ${purchaseId} has no active booking`);
  await tx
    .updateTable('events')
    .set((eb) => ({ soldTickets: eb('soldTickets', '-', booking.quantity) }))
    .where('id', '=', booking.eventId)
    .execute();
  await setStatus(tx, [purchaseId], ['confirmed'], { status: 'cancelled' }, decidedAt);
  return settled(purchaseId, decidedAt, { status: 'cancelled' });
}

export async function leaveWaitlist(tx: Tx, purchaseId: string, decidedAt: Date): Promise<Settlement> {
  await tx.deleteFrom('waitlistEntries').where('purchaseId', '=', purchaseId).execute();
  await setStatus(tx, [purchaseId], ['waitlisted'], { status: 'cancelled' }, decidedAt);
  return settled(purchaseId, decidedAt, { status: 'cancelled' });
}

export async function withdrawQueued(tx: Tx, purchaseId: string, decidedAt: Date): Promise<Settlement> {
  await setStatus(tx, [purchaseId], ['queued'], { status: 'cancelled' }, decidedAt);
  return settled(purchaseId, decidedAt, { status: 'cancelled' });
}

/** The first entries of the waiting list, in line order. */
export async function waitlistHead(
  tx: Tx,
  eventId: string,
  limit: number,
): Promise<(WaitlistEntry & { userId: string })[]> {
  return tx
    .selectFrom('waitlistEntries as w')
    .innerJoin('purchases as p', 'p.id', 'w.purchaseId')
    .select(['w.purchaseId', 'w.quantity', 'p.userId'])
    .where('w.eventId', '=', eventId)
    .orderBy('w.seq')
    .limit(limit)
    .execute();
}

export async function removeWaitlistEntries(tx: Tx, purchaseIds: readonly string[]): Promise<void> {
  if (purchaseIds.length === 0) return;
  await tx.deleteFrom('waitlistEntries').where('purchaseId', 'in', purchaseIds).execute();
}

/**
 * Moves purchases from an expected status to a new one. Every purchase must be in an expected status:
 * anything else means two deciders disagree, and the transaction must not commit.
 */
async function setStatus(
  tx: Tx,
  purchaseIds: readonly string[],
  from: readonly PurchaseRow['status'][],
  to: { status: PurchaseRow['status']; reason?: RejectionReason },
  decidedAt: Date,
): Promise<void> {
  if (purchaseIds.length === 0) return;
  const result = await tx
    .updateTable('purchases')
    .set({ status: to.status, reason: to.reason ?? null, processedAt: decidedAt })
    .where('id', 'in', purchaseIds)
    .where('status', 'in', from)
    .executeTakeFirst();
  if (result.numUpdatedRows !== BigInt(purchaseIds.length)) {
    throw new Error(
      `Expected ${purchaseIds.length} purchases in status ${from.join('/')}, found ${result.numUpdatedRows}`,
    );
  }
}
