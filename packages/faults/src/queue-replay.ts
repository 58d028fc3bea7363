/**
 * A replay of one event's queue order from its books (docs/running-a-sale.md), for the audit of events
 * whose total changed or whose sale was closed. It does not reuse the worker's rules: it walks the
 * line itself (the pre-queue by draw key, then every numbered step by `seq`: purchases, cancellations,
 * expiries, resizes and the close) with the allocation rule (tickets while they last and nobody
 * waits, else the waiting list's tail, or a rejection for a purchase that does not wait), promotes the
 * waiting list's head while it fits whenever tickets come back or the total grows, sets each resize's
 * total at its place (the applied total the books record, which must be the request or, if more
 * were taken by then, everything taken) and closes the line at the close. Then it compares where
 * each purchase ended with where the books say it did.
 *
 * A pause has no place in the line and changes no outcome, except on an event with holds whose holds
 * ran out during it (their tickets come back before purchases numbered earlier are decided): such
 * runs are not replayed exactly.
 */

export interface ReplayPurchase {
  readonly id: string;
  readonly seq: number;
  /** A pre-queue entrant's key: the pre-queue comes first, in ascending key. */
  readonly drawKey: string | null;
  readonly quantity: number;
  readonly joinWaitlist: boolean;
  readonly status: string;
  readonly reason: string | null;
  readonly cancelSeq: number | null;
  readonly expireSeq: number | null;
  /** It was given tickets at some point: booked (even if cancelled since), held, or its hold expired. */
  readonly gotTickets: boolean;
}

export interface ReplayResize {
  readonly seq: number;
  /** The total asked for. */
  readonly totalTickets: number;
  /** The total it gave when its turn came; null while it is pending. */
  readonly appliedTotal: number | null;
}

export interface ReplayEvent {
  /** The total at creation, before any resize. */
  readonly initialTotal: number;
  readonly closeSeq: number | null;
  readonly purchases: readonly ReplayPurchase[];
  readonly resizes: readonly ReplayResize[];
}

/** Where a purchase ended, as far as who got tickets goes. */
export type Outcome = 'ticket' | 'waiting' | 'rejected' | 'left';

export interface Mismatch {
  readonly seq: number;
  /** Its place in the line (1-based, the pre-queue by draw key then by seq). */
  readonly place: number;
  readonly is: Outcome;
  readonly replayed: Outcome;
  /** The total in force at the purchase's own turn in the line. */
  readonly totalAtTurn: number;
}

export interface ReplayResult {
  readonly mismatches: readonly Mismatch[];
  /** Resizes whose applied total is not what their turn gives, or that were never carried out. */
  readonly resizeFaults: readonly string[];
  /** Purchases numbered after the close (refused at the gate, so none should exist). */
  readonly afterClose: number;
}

/** What the books say a purchase became. */
export function actualOutcome(purchase: ReplayPurchase): Outcome {
  if (purchase.gotTickets) return 'ticket';
  if (purchase.status === 'waitlisted') return 'waiting';
  if (purchase.status === 'rejected') return 'rejected';
  return 'left';
}

type Step =
  | { readonly kind: 'purchase'; readonly order: number; readonly purchase: ReplayPurchase }
  | { readonly kind: 'cancel' | 'expire'; readonly order: number; readonly purchase: ReplayPurchase }
  | { readonly kind: 'resize'; readonly order: number; readonly resize: ReplayResize }
  | { readonly kind: 'close'; readonly order: number };

/** A purchase cancelled before it was ever decided (a pre-queue cancellation) never took a place. */
const neverInLine = (purchase: ReplayPurchase): boolean =>
  purchase.status === 'cancelled' && !purchase.gotTickets && purchase.cancelSeq === null;

export function replayQueue(event: ReplayEvent): ReplayResult {
  const inLine = event.purchases.filter((purchase) => !neverInLine(purchase));
  const entrants = inLine
    .filter((purchase) => purchase.drawKey !== null)
    .sort((a, b) => (a.drawKey! < b.drawKey! ? -1 : 1));
  const numbered: Step[] = [
    ...inLine
      .filter((purchase) => purchase.drawKey === null)
      .map((purchase): Step => ({ kind: 'purchase', order: purchase.seq, purchase })),
    ...inLine.flatMap((purchase): Step[] => [
      ...(purchase.cancelSeq !== null
        ? [{ kind: 'cancel' as const, order: purchase.cancelSeq, purchase }]
        : []),
      ...(purchase.expireSeq !== null
        ? [{ kind: 'expire' as const, order: purchase.expireSeq, purchase }]
        : []),
    ]),
    ...event.resizes.map((resize): Step => ({ kind: 'resize', order: resize.seq, resize })),
    ...(event.closeSeq !== null ? [{ kind: 'close' as const, order: event.closeSeq }] : []),
  ].sort((a, b) => a.order - b.order);
  const steps: Step[] = [
    ...entrants.map((purchase): Step => ({ kind: 'purchase', order: purchase.seq, purchase })),
    ...numbered,
  ];

  let total = event.initialTotal;
  let taken = 0;
  let closed = false;
  const waiting: ReplayPurchase[] = [];
  const outcome = new Map<string, Outcome>();
  const totalAtTurn = new Map<string, number>();
  const resizeFaults: string[] = [];
  let afterClose = 0;

  const promote = () => {
    while (!closed && waiting.length > 0 && waiting[0]!.quantity <= total - taken) {
      const head = waiting.shift()!;
      taken += head.quantity;
      outcome.set(head.id, 'ticket');
    }
  };

  for (const step of steps) {
    switch (step.kind) {
      case 'purchase': {
        const { purchase } = step;
        if (closed) afterClose += 1;
        totalAtTurn.set(purchase.id, total);
        // A second purchase of a placed buyer is refused whatever the tickets: not the size's doing.
        if (purchase.status === 'rejected' && purchase.reason === 'duplicate_purchase') {
          outcome.set(purchase.id, 'rejected');
        } else if (waiting.length === 0 && purchase.quantity <= total - taken) {
          taken += purchase.quantity;
          outcome.set(purchase.id, 'ticket');
        } else if (purchase.joinWaitlist && !closed) {
          waiting.push(purchase);
          outcome.set(purchase.id, 'waiting');
        } else {
          outcome.set(purchase.id, 'rejected');
        }
        break;
      }
      case 'cancel':
      case 'expire': {
        const { purchase } = step;
        const index = waiting.indexOf(purchase);
        if (index !== -1) {
          waiting.splice(index, 1);
          outcome.set(purchase.id, 'left');
        } else if (outcome.get(purchase.id) === 'ticket') {
          // Its tickets come back (an expiry, or a cancellation of what it held or bought).
          taken -= purchase.quantity;
          promote();
        }
        break;
      }
      case 'resize': {
        const { resize } = step;
        if (resize.appliedTotal === null) {
          resizeFaults.push(
            `the resize numbered ${resize.seq} (to ${resize.totalTickets}) was never carried out`,
          );
          break;
        }
        const expected = Math.max(resize.totalTickets, taken);
        if (resize.appliedTotal !== expected)
          resizeFaults.push(
            `the resize numbered ${resize.seq} (to ${resize.totalTickets}) gave ${resize.appliedTotal} tickets; ` +
              `its turn found ${taken} taken, so ${expected}`,
          );
        total = resize.appliedTotal;
        promote();
        break;
      }
      case 'close':
        closed = true;
        for (const purchase of waiting.splice(0)) outcome.set(purchase.id, 'rejected');
        break;
    }
  }

  const line = steps.flatMap((step) => (step.kind === 'purchase' ? [step.purchase] : []));
  const mismatches: Mismatch[] = [];
  line.forEach((purchase, index) => {
    const replayed = outcome.get(purchase.id) ?? 'left';
    const is = actualOutcome(purchase);
    if (is !== replayed)
      mismatches.push({
        seq: purchase.seq,
        place: index + 1,
        is,
        replayed,
        totalAtTurn: totalAtTurn.get(purchase.id) ?? total,
      });
  });
  return { mismatches, resizeFaults, afterClose };
}
