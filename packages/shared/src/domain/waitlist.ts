export interface WaitlistEntry {
  readonly purchaseId: string;
  readonly quantity: number;
}

/**
 * Promotes waiting purchases strictly in order while the head of the list fits in the free tickets.
 * A head that does not fit blocks everyone behind it: nobody skips ahead, even if they would fit.
 */
export function planPromotions(
  availableTickets: number,
  waitlistInOrder: readonly WaitlistEntry[],
): { promoted: WaitlistEntry[]; availableTickets: number } {
  const promoted: WaitlistEntry[] = [];
  let remaining = availableTickets;
  for (const entry of waitlistInOrder) {
    if (entry.quantity > remaining) break;
    promoted.push(entry);
    remaining -= entry.quantity;
  }
  return { promoted, availableTickets: remaining };
}
