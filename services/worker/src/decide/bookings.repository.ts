import type { Tx } from '@ticketing/shared';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { StatusChange } from './status-change.js';

/** A sale's tickets going to a purchase. */
export interface Allocation {
  readonly purchaseId: string;
  readonly userId: string;
  readonly quantity: number;
}

/** Books tickets for allocations, of any events; returns the confirmations with their booking ids. */
export async function insertBookings(
  tx: Tx,
  bookings: readonly (Allocation & { eventId: string; unitPriceCents: number })[],
): Promise<StatusChange[]> {
  if (bookings.length === 0) return [];
  const ids = bookings.map(() => randomUUID());
  await sql`
    insert into bookings (id, purchase_id, event_id, user_id, quantity, unit_price_cents)
    select * from unnest(
      ${ids}::uuid[],
      ${bookings.map((booking) => booking.purchaseId)}::uuid[],
      ${bookings.map((booking) => booking.eventId)}::uuid[],
      ${bookings.map((booking) => booking.userId)}::text[],
      ${bookings.map((booking) => booking.quantity)}::integer[],
      ${bookings.map((booking) => booking.unitPriceCents)}::integer[]
    )`.execute(tx);
  return bookings.map((booking, index) => ({
    purchaseId: booking.purchaseId,
    status: 'confirmed',
    bookingId: ids[index],
  }));
}

/** Marks a purchase's active booking cancelled; returns what it held, or undefined if it has none. */
export async function cancelBooking(
  tx: Tx,
  purchaseId: string,
  cancelledAt: Date,
): Promise<{ eventId: string; quantity: number } | undefined> {
  return tx
    .updateTable('bookings')
    .set({ cancelledAt })
    .where('purchaseId', '=', purchaseId)
    .where('cancelledAt', 'is', null)
    .returning(['eventId', 'quantity'])
    .executeTakeFirst();
}

/** Marks the active bookings of these purchases cancelled; returns how many tickets they held. */
export async function cancelBookings(
  tx: Tx,
  purchaseIds: readonly string[],
  cancelledAt: Date,
): Promise<number> {
  if (purchaseIds.length === 0) return 0;
  const { rows } = await sql<{ tickets: number }>`
    with cancelled as (
      update bookings set cancelled_at = ${cancelledAt}
      where purchase_id = any(${purchaseIds}::uuid[]) and cancelled_at is null
      returning quantity
    )
    select coalesce(sum(quantity), 0)::integer as tickets from cancelled`.execute(tx);
  return rows[0]?.tickets ?? 0;
}
