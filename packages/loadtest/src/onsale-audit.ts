/**
 * The on-sale audit of a load run (`--sale-start-in`, docs/on-sale.md), from what the client saw and
 * read back through the API: the draw was the one committed to, nothing was decided before the start,
 * the pre-queue was decided exactly in the published draw's order and ahead of every later arrival, and
 * the buyers who came first (as fast as they could) did not place better than the paced ones beyond
 * chance. It is independent of the worker's code: it replays the allocation rule (confirmed while the
 * tickets last and nobody waits, else the waiting list's tail) over the drawn order and compares.
 */
import { drawCommitment, drawKey, drawOrder } from '@ticketing/shared/draw';

/** How a pre-start buyer arrived: as fast as the client could submit, or spread over the pre-queue. */
export type ArrivalGroup = 'fast' | 'paced';

export interface OnSalePurchase {
  readonly purchaseId: string;
  readonly quantity: number;
  /** Where it arrived: pre-queued (with the group) or after the start (`late`). */
  readonly arrival: ArrivalGroup | 'late';
  /** As read back after the run. */
  readonly status: string;
  readonly waitlistPosition?: number;
  readonly processedAt?: string;
}

export interface RevealedDraw {
  /** The commitment read during the pre-queue, before the start. */
  readonly commitmentBefore: string;
  /** `GET /events/:id/draw` after the start. */
  readonly commitment: string;
  readonly seed?: string;
  readonly entrants?: number;
  readonly keys?: readonly string[];
}

export interface OnSaleBooks {
  readonly eventId: string;
  readonly totalTickets: number;
  readonly salesStartAt: string;
  readonly draw: RevealedDraw;
  readonly purchases: readonly OnSalePurchase[];
}

export interface OnSaleFigures {
  readonly eventId: string;
  readonly entrants: number;
  readonly late: number;
  /** From `salesStartAt` to the earliest `processedAt` (ms), if anything was decided. */
  readonly firstDecisionMs?: number;
  readonly fast: { readonly count: number; readonly meanPlace: number };
  readonly paced: { readonly count: number; readonly meanPlace: number };
  /** The fast buyers' mean place as a z-score under a fair draw (negative: better than chance). */
  readonly fastZ: number;
}

/**
 * One-sided test at α = 0.001: under a fair draw the fast buyers' mean place is below this many
 * standard deviations from the middle with probability 0.001 (the normal approximation to the mean of
 * a sample drawn without replacement from places 1..E, good for the tens of entrants and up the mode
 * runs with).
 */
export const FAST_Z_THRESHOLD = -3.09;
/** Fewer entrants in a group than this and the comparison says too little to be asserted. */
export const MIN_GROUP = 20;

/**
 * The z-score of the mean of `m` of the places 1..E: a uniformly random subset has mean (E + 1) / 2
 * and variance (E + 1)(E − m) / (12 m).
 */
export function meanPlaceZ(places: readonly number[], entrants: number): number {
  const m = places.length;
  if (m === 0 || m >= entrants) return 0;
  const mean = places.reduce((sum, place) => sum + place, 0) / m;
  const sd = Math.sqrt(((entrants + 1) * (entrants - m)) / (12 * m));
  return (mean - (entrants + 1) / 2) / sd;
}

/**
 * Each entrant's place in the order it was actually decided, as far as the API shows it: by decision
 * time, then confirmed before waitlisted, then by waiting-list position; purchases the API cannot tell
 * apart (confirmed in one round) share the mean of their places. Ties only shrink the places' spread,
 * so the z-score computed as if there were none errs towards not reporting.
 */
function decisionPlaces(
  entrants: readonly OnSalePurchase[],
  decidedAt: (purchase: OnSalePurchase) => number | undefined,
): Map<string, number> {
  const rank = (p: OnSalePurchase) =>
    [decidedAt(p) ?? Infinity, p.status === 'confirmed' ? 0 : 1, p.waitlistPosition ?? 0] as const;
  const sorted = entrants.map((p) => ({ id: p.purchaseId, rank: rank(p) }));
  const compare = (a: readonly number[], b: readonly number[]) =>
    a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!;
  sorted.sort((a, b) => compare(a.rank, b.rank));
  const places = new Map<string, number>();
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && compare(sorted[j + 1]!.rank, sorted[i]!.rank) === 0) j++;
    for (let k = i; k <= j; k++) places.set(sorted[k]!.id, (i + j) / 2 + 1);
    i = j + 1;
  }
  return places;
}

const DECIDED_TO_BOOK = new Set(['confirmed', 'waitlisted']);

export function auditOnSale(event: OnSaleBooks): { violations: string[]; figures: OnSaleFigures } {
  const at = `event ${event.eventId}`;
  const violations: string[] = [];
  const { draw } = event;
  const entrants = event.purchases.filter((purchase) => purchase.arrival !== 'late');
  const late = event.purchases.filter((purchase) => purchase.arrival === 'late');
  const start = Date.parse(event.salesStartAt);
  const decidedAt = (purchase: OnSalePurchase) =>
    purchase.processedAt === undefined ? undefined : Date.parse(purchase.processedAt);
  const times = event.purchases.map(decidedAt).filter((t): t is number => t !== undefined);
  const empty = { count: 0, meanPlace: 0 };
  const figures = (places: Map<string, number> = new Map()): OnSaleFigures => {
    const of = (group: ArrivalGroup) => {
      const list = entrants.filter((p) => p.arrival === group).map((p) => places.get(p.purchaseId) ?? 0);
      return list.length === 0
        ? { ...empty, places: list }
        : { count: list.length, meanPlace: list.reduce((s, n) => s + n, 0) / list.length, places: list };
    };
    const fast = of('fast');
    const paced = of('paced');
    return {
      eventId: event.eventId,
      entrants: entrants.length,
      late: late.length,
      ...(times.length > 0 ? { firstDecisionMs: Math.min(...times) - start } : {}),
      fast: { count: fast.count, meanPlace: Math.round(fast.meanPlace * 10) / 10 },
      paced: { count: paced.count, meanPlace: Math.round(paced.meanPlace * 10) / 10 },
      fastZ: Math.round(meanPlaceZ(fast.places, places.size) * 100) / 100,
    };
  };

  // Nothing decided before the start (processedAt is set when a purchase is decided).
  const early = event.purchases.filter((purchase) => (decidedAt(purchase) ?? Infinity) < start);
  if (early.length > 0)
    violations.push(
      `${at}: ${early.length} purchases decided before the sale start ${event.salesStartAt} ` +
        `(first at ${early.map((p) => p.processedAt).sort()[0]})`,
    );

  // The draw: revealed, the one committed to before the start, its keys in order and ours.
  if (draw.commitment !== draw.commitmentBefore)
    violations.push(`${at}: the commitment changed from ${draw.commitmentBefore} to ${draw.commitment}`);
  if (draw.seed === undefined || draw.keys === undefined) {
    violations.push(`${at}: the draw was not revealed after the start`);
    return { violations, figures: figures() };
  }
  const seed = Buffer.from(draw.seed, 'hex');
  if (!/^[0-9a-f]{64}$/.test(draw.seed) || drawCommitment(seed) !== draw.commitmentBefore)
    violations.push(`${at}: SHA-256 of the revealed seed is not the commitment published before the start`);
  if (draw.entrants !== draw.keys.length)
    violations.push(`${at}: the draw says ${draw.entrants} entrants but publishes ${draw.keys.length} keys`);
  if (drawOrder(draw.keys).some((key, i) => key !== draw.keys![i]))
    violations.push(`${at}: the published keys are not in drawn (ascending) order`);
  const keyOf = new Map(
    entrants.map((purchase) => [purchase.purchaseId, drawKey(seed, purchase.purchaseId)]),
  );
  const published = new Set(draw.keys);
  const missing = entrants.filter((purchase) => !published.has(keyOf.get(purchase.purchaseId)!));
  if (missing.length > 0)
    violations.push(`${at}: ${missing.length} pre-queued purchases are not in the draw`);
  if (draw.keys.length !== entrants.length)
    violations.push(
      `${at}: the draw has ${draw.keys.length} entrants, the client pre-queued ${entrants.length}`,
    );

  // Drawn order: ascending key. Replay the allocation over it and compare with what each became.
  const drawn = [...entrants].sort((a, b) => (keyOf.get(a.purchaseId)! < keyOf.get(b.purchaseId)! ? -1 : 1));
  const places = new Map(drawn.map((purchase, i) => [purchase.purchaseId, i + 1]));
  let available = event.totalTickets;
  let waiting = 0;
  const outOfOrder: string[] = [];
  for (const purchase of drawn) {
    const expected =
      waiting === 0 && purchase.quantity <= available
        ? { status: 'confirmed' as const }
        : { status: 'waitlisted' as const, waitlistPosition: ++waiting };
    if (expected.status === 'confirmed') available -= purchase.quantity;
    const position = expected.status === 'waitlisted' ? ` at ${expected.waitlistPosition}` : '';
    if (
      purchase.status !== expected.status ||
      (expected.status === 'waitlisted' && purchase.waitlistPosition !== expected.waitlistPosition)
    )
      outOfOrder.push(
        `place ${places.get(purchase.purchaseId)} is ${purchase.status}` +
          `${purchase.waitlistPosition !== undefined ? ` at ${purchase.waitlistPosition}` : ''}, ` +
          `the draw makes it ${expected.status}${position}`,
      );
  }
  if (outOfOrder.length > 0)
    violations.push(
      `${at}: the pre-queue was not decided in the draw's order (${outOfOrder.length} differ; ${outOfOrder.slice(0, 3).join('; ')})`,
    );
  // Along the draw, decisions never go back in time (equal within one round's transaction).
  const drawnTimes = drawn.map(decidedAt);
  if (drawnTimes.some((t, i) => i > 0 && t !== undefined && drawnTimes[i - 1]! > t))
    violations.push(`${at}: a pre-queue purchase was decided before one ahead of it in the draw`);

  // Every later arrival behind the whole pre-queue: no earlier decision, no place ahead in the line.
  const lastEntrant = Math.max(...drawnTimes.filter((t): t is number => t !== undefined), -Infinity);
  const overtook = late.filter(
    (purchase) =>
      (decidedAt(purchase) ?? Infinity) < lastEntrant ||
      (waiting > 0 && purchase.status === 'confirmed') ||
      (purchase.status === 'waitlisted' && (purchase.waitlistPosition ?? 0) <= waiting),
  );
  if (overtook.length > 0)
    violations.push(`${at}: ${overtook.length} purchases made after the start went ahead of the pre-queue`);
  const lateConfirmed = late
    .filter((purchase) => purchase.status === 'confirmed')
    .reduce((sum, purchase) => sum + purchase.quantity, 0);
  if (lateConfirmed > available)
    violations.push(`${at}: later arrivals got ${lateConfirmed} tickets, the pre-queue left ${available}`);
  const undecided = event.purchases.filter((purchase) => !DECIDED_TO_BOOK.has(purchase.status));
  if (undecided.length > 0)
    violations.push(`${at}: ${undecided.length} purchases ended neither confirmed nor waitlisted`);

  // The fast buyers' mean place in the order they were actually decided, against chance.
  const result = figures(decisionPlaces(entrants, decidedAt));
  if (result.fast.count >= MIN_GROUP && result.paced.count >= MIN_GROUP && result.fastZ < FAST_Z_THRESHOLD)
    violations.push(
      `${at}: the fast buyers' mean place ${result.fast.meanPlace} (paced ${result.paced.meanPlace}) is ` +
        `better than a fair draw allows (z = ${result.fastZ} < ${FAST_Z_THRESHOLD})`,
    );
  return { violations, figures: result };
}
