import type { PurchaseDecision, RejectionReason } from './purchase.js';
import { resizedTotal, type SaleOperationRefusal } from './sale-operations.js';

/**
 * Ticket types (docs/ticket-types.md): an event sells several kinds of ticket, each drawing on pools.
 *
 * - **The event's capacity** (`totalTickets`) is a pool every ticket of every type draws on.
 * - **A type's quota**, when it has one, is a pool only that type's tickets draw on. A type without a
 *   quota is still a pool (its sold and held tickets are counted) but it has no bound of its own.
 *
 * A purchase names items (`{ ticketTypeId, quantity }`); it draws its total quantity from the event's
 * capacity and each item's quantity from that type's pool. It is decided all or nothing: it gets tickets
 * only if every pool it draws on has room for what it draws.
 *
 * **The waiting rule.** One waiting line per event, in queue order. A purchase is *short of* a pool
 * when the pool's free tickets are fewer than it draws from it. Each purchase in turn, first the waiting
 * line in order, then new purchases in queue order, gets its tickets exactly when
 *
 * 1. it is short of no pool it draws on (all or nothing), and
 * 2. no purchase ahead of it that is still waiting is short of a pool it draws on,
 *
 * both as things stand at its turn, after the promotions and sales ahead of it. Otherwise it waits (a
 * new purchase joins the tail, or is rejected if it will not wait). So a waiting purchase *blocks* every
 * pool it is short of for everyone behind it, and nothing else: nobody takes a seat from a pool someone
 * ahead is waiting for, and a purchase waiting for the VIP quota does not hold up standing tickets.
 * Every purchase draws on the event's capacity, so one short of the capacity itself blocks everyone
 * behind it; with one type the head of a line is always short of it (else it would have been promoted),
 * and the rule is today's: strict head of line (`planPromotions`) and, for new purchases, anyone waiting
 * blocks everyone (`decidePurchase`). Blocking reserves nothing: a purchase held up by another on VIP,
 * with room for it in standing, does not stop a later purchase taking that standing room; once it is
 * short of standing too, it blocks standing as well.
 *
 * Every round leaves the line *settled* (walking it again promotes nobody), and a batch of new
 * purchases is decided against a settled line: a pool is blocked for a newcomer when the most any
 * waiting purchase draws from it exceeds its free tickets.
 */

/** The most ticket types an event may have. */
export const MAX_TICKET_TYPES = 20;

/** A pool's key: the event's capacity, or one ticket type's. */
export const EVENT_POOL = 'event';
export type PoolKey = typeof EVENT_POOL | `type:${string}`;

export const typePool = (ticketTypeId: string): PoolKey => `type:${ticketTypeId}`;

/** The ticket type a pool belongs to, or null for the event's capacity. */
export const ticketTypeOfPool = (pool: PoolKey): string | null =>
  pool === EVENT_POOL ? null : pool.slice('type:'.length);

export interface Pool {
  /** The most tickets sold and held together; null: no bound of its own (a type without a quota). */
  readonly capacity: number | null;
  readonly sold: number;
  readonly held: number;
}

export interface TicketPools {
  /** The event's capacity, shared by every type. */
  readonly event: Pool & { readonly capacity: number };
  /** Every ticket type of the event, by id. */
  readonly types: ReadonlyMap<string, Pool>;
}

export interface PurchaseItem {
  readonly ticketTypeId: string;
  readonly quantity: number;
}

/** How many tickets a purchase draws from each pool it draws on. */
export type Draws = ReadonlyMap<PoolKey, number>;

/** A pool's free tickets: unbounded (a type without a quota) is Infinity. */
export const freeIn = (pool: Pool): number =>
  pool.capacity === null ? Number.POSITIVE_INFINITY : pool.capacity - pool.sold - pool.held;

function poolOf(pools: TicketPools, key: PoolKey): Pool {
  if (key === EVENT_POOL) return pools.event;
  const pool = pools.types.get(ticketTypeOfPool(key) ?? '');
  // The api checks items against the event's types (checkPurchaseItems) before accepting a purchase.
  if (pool === undefined) throw new Error(`no ticket type ${key} in this event`);
  return pool;
}

/** The pools a purchase's items draw on and how many from each: the total from the event's capacity. */
export function drawsOf(items: readonly PurchaseItem[]): Draws {
  const draws = new Map<PoolKey, number>([[EVENT_POOL, 0]]);
  for (const { ticketTypeId, quantity } of items) {
    const key = typePool(ticketTypeId);
    draws.set(key, (draws.get(key) ?? 0) + quantity);
    draws.set(EVENT_POOL, (draws.get(EVENT_POOL) ?? 0) + quantity);
  }
  return draws;
}

/** The pools that have fewer free tickets than the purchase draws from them, in the draws' order. */
export const shortOf = (pools: TicketPools, draws: Draws): PoolKey[] => shortIn(freeCounts(pools), draws);

/** All or nothing: every pool the items draw on has room for them. */
export const fits = (pools: TicketPools, items: readonly PurchaseItem[]): boolean =>
  shortOf(pools, drawsOf(items)).length === 0;

/** Tickets of a type a purchase could still get now: the lower of its quota's and the event's room. */
export const availableOf = (pools: TicketPools, ticketTypeId: string): number =>
  Math.min(freeIn(pools.event), freeIn(poolOf(pools, typePool(ticketTypeId))));

type Counter = 'sold' | 'held';

function moveTickets(pools: TicketPools, draws: Draws, counter: Counter, sign: 1 | -1): TicketPools {
  const moved = <P extends Pool>(pool: P, key: PoolKey): P => ({
    ...pool,
    [counter]: pool[counter] + sign * (draws.get(key) ?? 0),
  });
  const types = new Map(pools.types);
  for (const key of draws.keys()) {
    const id = ticketTypeOfPool(key);
    if (id !== null) types.set(id, moved(poolOf(pools, key), key));
  }
  return { event: moved(pools.event, EVENT_POOL), types };
}

/** The pools after a purchase gets its tickets: held for payment, or sold. */
export const takeFromPools = (pools: TicketPools, draws: Draws, as: Counter): TicketPools =>
  moveTickets(pools, draws, as, 1);

/** The pools after a purchase gives its tickets back (a cancellation, an expired hold). */
export const returnToPools = (pools: TicketPools, draws: Draws, from: Counter): TicketPools =>
  moveTickets(pools, draws, from, -1);

/** The pools after a hold is paid for: its tickets move from held to sold, nothing is freed. */
export const confirmHeldInPools = (pools: TicketPools, draws: Draws): TicketPools =>
  takeFromPools(returnToPools(pools, draws, 'held'), draws, 'sold');

/** Why a purchase's items are refused, each a 422. */
export const PURCHASE_ITEMS_REFUSAL_CODES = [
  'unknown_ticket_type',
  'duplicate_ticket_type',
  'quantity_over_limit',
] as const;

export interface PurchaseItemsRefusal {
  readonly code: (typeof PURCHASE_ITEMS_REFUSAL_CODES)[number];
  readonly message: string;
}

/** Items name the event's types, each once, and together stay within the per-purchase limit. */
export function checkPurchaseItems(
  ticketTypeIds: ReadonlySet<string>,
  items: readonly PurchaseItem[],
  maxPerPurchase: number,
): PurchaseItemsRefusal | undefined {
  const seen = new Set<string>();
  let total = 0;
  for (const { ticketTypeId, quantity } of items) {
    if (!ticketTypeIds.has(ticketTypeId))
      return { code: 'unknown_ticket_type', message: `This event has no ticket type ${ticketTypeId}` };
    if (seen.has(ticketTypeId))
      return { code: 'duplicate_ticket_type', message: `Ticket type ${ticketTypeId} is named twice` };
    seen.add(ticketTypeId);
    total += quantity;
  }
  if (total > maxPerPurchase)
    return { code: 'quantity_over_limit', message: `At most ${maxPerPurchase} tickets per purchase` };
  return undefined;
}

/** Why an event's list of types is refused (creating it, or adding a type), each a 422. */
export const TICKET_TYPES_REFUSAL_CODES = ['too_many_ticket_types', 'duplicate_ticket_type_name'] as const;

export interface TicketTypesRefusal {
  readonly code: (typeof TICKET_TYPES_REFUSAL_CODES)[number];
  readonly message: string;
}

/** An event has 1..MAX_TICKET_TYPES types (the schema asks for one at least), named uniquely. */
export function checkTicketTypeNames(names: readonly string[]): TicketTypesRefusal | undefined {
  if (names.length > MAX_TICKET_TYPES)
    return {
      code: 'too_many_ticket_types',
      message: `An event has at most ${MAX_TICKET_TYPES} ticket types`,
    };
  const duplicate = names.find((name, index) => names.indexOf(name) !== index);
  if (duplicate !== undefined)
    return { code: 'duplicate_ticket_type_name', message: `Two ticket types are named "${duplicate}"` };
  return undefined;
}

/** A type's new quota may not take away tickets sold or held; null lifts the quota. */
export function checkQuota(pool: Pool, quota: number | null): SaleOperationRefusal | undefined {
  const minimum = pool.sold + pool.held;
  if (quota === null || quota >= minimum) return undefined;
  return {
    code: 'below_sold_and_held',
    message: `quota cannot be below the ${minimum} tickets sold or held`,
  };
}

/**
 * The pools after a pool's bound changes when its turn in the queue comes: the bound asked for, or every
 * ticket taken then if purchases decided since took more (as `resizedTotal` does for the event). Tickets
 * it adds go to the waiting line: walk it next (`planItemPromotions`).
 */
export function resizePool(pools: TicketPools, key: PoolKey, capacity: number | null): TicketPools {
  const pool = poolOf(pools, key);
  const taken = { soldTickets: pool.sold, heldTickets: pool.held };
  const bound = capacity === null ? null : resizedTotal(taken, capacity);
  if (key === EVENT_POOL) {
    if (bound === null) throw new Error("the event's capacity cannot be lifted");
    return { ...pools, event: { ...pools.event, capacity: bound } };
  }
  return {
    ...pools,
    types: new Map(pools.types).set(ticketTypeOfPool(key) ?? '', { ...pool, capacity: bound }),
  };
}

/** The pools with a new type, nothing sold or held yet. Nobody waits for it, so the line is unchanged. */
export function addTicketType(pools: TicketPools, ticketTypeId: string, quota: number | null): TicketPools {
  if (pools.types.has(ticketTypeId)) throw new Error(`ticket type ${ticketTypeId} exists already`);
  return {
    ...pools,
    types: new Map(pools.types).set(ticketTypeId, { capacity: quota, sold: 0, held: 0 }),
  };
}

export interface WaitingItemPurchase {
  readonly purchaseId: string;
  readonly items: readonly PurchaseItem[];
}

/** Free tickets per pool, for a walk or a batch to count down. */
function freeCounts(pools: TicketPools): Map<PoolKey, number> {
  const free = new Map<PoolKey, number>([[EVENT_POOL, freeIn(pools.event)]]);
  for (const [id, pool] of pools.types) free.set(typePool(id), freeIn(pool));
  return free;
}

const freeOf = (free: ReadonlyMap<PoolKey, number>, key: PoolKey): number => {
  const count = free.get(key);
  if (count === undefined) throw new Error(`no ticket type ${key} in this event`);
  return count;
};

const shortIn = (free: ReadonlyMap<PoolKey, number>, draws: Draws): PoolKey[] =>
  [...draws].filter(([key, need]) => freeOf(free, key) < need).map(([key]) => key);

/** What deciding needs to know of the purchases waiting that draw on one pool. */
export interface WaitingInPool {
  /** How many of them there are. */
  readonly purchases: number;
  /** The most tickets one of them draws from the pool: it is blocked while that exceeds its free tickets. */
  readonly largestNeed: number;
}

/** The waiting line as a batch of new purchases sees it: per pool, who waits drawing on it. */
export type WaitingLineSummary = ReadonlyMap<PoolKey, WaitingInPool>;

/**
 * The pools and the waiting line as each purchase in turn finds them, in a walk of the line or a batch
 * of new purchases. A pool is blocked while some waiting purchase (ahead of the one whose turn it is)
 * is short of it, that is while the most any of them draws from it exceeds its free tickets: kept per
 * pool, so a turn looks at the purchase's own pools, never at the line.
 */
function turns(pools: TicketPools, waitingAhead: WaitingLineSummary = new Map()) {
  const free = freeCounts(pools);
  const waiting = new Map(waitingAhead);
  const taken = new Map<PoolKey, number>();
  return {
    /** The pools a purchase waits for, in the draws' order: short of them, or they are blocked. */
    waitingFor(draws: Draws): PoolKey[] {
      return [...draws]
        .filter(([key, need]) => {
          const room = freeOf(free, key);
          return room < need || (waiting.get(key)?.largestNeed ?? 0) > room;
        })
        .map(([key]) => key);
    },
    /** Its place behind those waiting: in the pool it waits for with the most of them ahead. */
    placeFor(waitingFor: readonly PoolKey[]): number {
      return 1 + Math.max(0, ...waitingFor.map((key) => waiting.get(key)?.purchases ?? 0));
    },
    take(draws: Draws): void {
      for (const [key, need] of draws) {
        free.set(key, freeOf(free, key) - need);
        taken.set(key, (taken.get(key) ?? 0) + need);
      }
    },
    wait: (draws: Draws): void => joinTheLine(waiting, draws),
    isUnbounded: (key: PoolKey): boolean => freeOf(free, key) === Number.POSITIVE_INFINITY,
    waiting: (): WaitingLineSummary => waiting,
    /** The pools after the purchases that took tickets: held for payment, or sold. */
    poolsAfter: (holds: boolean): TicketPools => takeFromPools(pools, taken, holds ? 'held' : 'sold'),
  };
}

function joinTheLine(waiting: Map<PoolKey, WaitingInPool>, draws: Draws): void {
  for (const [key, need] of draws) {
    const { purchases = 0, largestNeed = 0 } = waiting.get(key) ?? {};
    waiting.set(key, { purchases: purchases + 1, largestNeed: Math.max(need, largestNeed) });
  }
}

/** The summary of a line, from its purchases (a round reads it from Postgres instead: see the doc). */
export function summarizeWaitingLine(waitingLine: readonly WaitingItemPurchase[]): WaitingLineSummary {
  const waiting = new Map<PoolKey, WaitingInPool>();
  for (const entry of waitingLine) joinTheLine(waiting, drawsOf(entry.items));
  return waiting;
}

/**
 * Walks the waiting line in order when tickets come back (a cancellation, an expiry, a resize, the
 * resume): a purchase is promoted, taking its tickets (held on an event with holds, else sold), when it
 * is short of no pool and no purchase ahead of it, still waiting, is short of a pool it draws on, both
 * as things stand at its turn (after the promotions ahead of it). So a purchase that is not promoted
 * blocks every pool it is short of for everyone behind it. With one type this is `planPromotions`. The
 * line it leaves is settled: walking it again promotes nobody.
 *
 * A long line can be walked in pages: pass each page the pools and the `waiting` summary the page
 * before handed on (the purchases ahead that it did not promote).
 */
export function planItemPromotions(
  pools: TicketPools,
  waitingLine: readonly WaitingItemPurchase[],
  holds: boolean,
  waitingAhead: WaitingLineSummary = new Map(),
): { promoted: WaitingItemPurchase[]; pools: TicketPools; waiting: WaitingLineSummary } {
  const line = turns(pools, waitingAhead);
  const promoted: WaitingItemPurchase[] = [];
  for (const entry of waitingLine) {
    const draws = drawsOf(entry.items);
    if (line.waitingFor(draws).length === 0) {
      promoted.push(entry);
      line.take(draws);
    } else line.wait(draws);
  }
  return { promoted, pools: line.poolsAfter(holds), waiting: line.waiting() };
}

/** Where a waiting purchase stands: the pools it waits for, and its place among those competing for them. */
export interface WaitingPlace {
  /**
   * The pools it is short of, and those it draws on that someone ahead is short of. Event capacity first,
   * then its items' types in order.
   */
  readonly waitingFor: readonly PoolKey[];
  /**
   * 1 + the waiting purchases ahead of it that draw on the pool it waits for; waiting for several, the
   * most of them in any one. With one type, its place in the whole line.
   */
  readonly waitlistPosition: number;
}

/**
 * The waiting purchase's place in a settled line, for the purchase view; undefined if it does not wait.
 * A purchase that would fit and is blocked by nobody (tickets kept free while the sale is paused) waits
 * for its turn in every bounded pool it draws on.
 */
export function waitingPlace(
  pools: TicketPools,
  waitingLine: readonly WaitingItemPurchase[],
  purchaseId: string,
): WaitingPlace | undefined {
  const index = waitingLine.findIndex((entry) => entry.purchaseId === purchaseId);
  const entry = waitingLine[index];
  if (entry === undefined) return undefined;
  const line = turns(pools, summarizeWaitingLine(waitingLine.slice(0, index)));
  const draws = drawsOf(entry.items);
  let waitingFor = line.waitingFor(draws);
  if (waitingFor.length === 0) waitingFor = [...draws.keys()].filter((key) => !line.isUnbounded(key));
  return { waitingFor, waitlistPosition: line.placeFor(waitingFor) };
}

export interface PendingItemPurchase {
  readonly id: string;
  readonly userId: string;
  readonly items: readonly PurchaseItem[];
  readonly joinWaitlist: boolean;
}

export interface ItemDecisionState {
  readonly pools: TicketPools;
  /** The event holds tickets for payment instead of confirming at once. */
  readonly holds: boolean;
  /** The waiting line, settled (walking it would promote nobody: every round leaves it so), per pool. */
  readonly waiting: WaitingLineSummary;
  /** Users who already have a placed purchase (held, confirmed or waitlisted) for this event. */
  readonly placedUsers: ReadonlySet<string>;
}

export type ItemPurchaseDecision =
  | Exclude<PurchaseDecision, { readonly status: 'waitlisted' }>
  | ({ readonly status: 'waitlisted' } & WaitingPlace);

export interface DecidedItemPurchase {
  readonly purchase: PendingItemPurchase;
  readonly decision: ItemPurchaseDecision;
}

const rejected = (reason: RejectionReason): ItemPurchaseDecision => ({ status: 'rejected', reason });

/**
 * Decides purchases with items one after another in queue order, each seeing the effect of those
 * before it: a purchase gets its tickets when it is short of no pool and draws on no pool a waiting
 * purchase is short of; otherwise it waits at the tail (or is rejected, `sold_out`, if it will not
 * wait), at the place `waitingPlace` would give it. It needs of the line only its summary per pool, so
 * a round never reads the line. With one type this is `decidePurchases`, on every settled line.
 */
export function decideItemPurchases(
  initial: ItemDecisionState,
  purchases: readonly PendingItemPurchase[],
): { decided: DecidedItemPurchase[]; state: ItemDecisionState } {
  const line = turns(initial.pools, initial.waiting);
  const placedUsers = new Set(initial.placedUsers);
  const decided: DecidedItemPurchase[] = [];
  for (const purchase of purchases) {
    if (placedUsers.has(purchase.userId)) {
      decided.push({ purchase, decision: rejected('duplicate_purchase') });
      continue;
    }
    const draws = drawsOf(purchase.items);
    const waitingFor = line.waitingFor(draws);
    let decision: ItemPurchaseDecision;
    if (waitingFor.length === 0) {
      line.take(draws);
      decision = initial.holds ? { status: 'held' } : { status: 'confirmed' };
    } else if (!purchase.joinWaitlist) decision = rejected('sold_out');
    else {
      decision = { status: 'waitlisted', waitingFor, waitlistPosition: line.placeFor(waitingFor) };
      line.wait(draws);
    }
    if (decision.status !== 'rejected') placedUsers.add(purchase.userId);
    decided.push({ purchase, decision });
  }
  return {
    decided,
    state: {
      pools: line.poolsAfter(initial.holds),
      holds: initial.holds,
      waiting: line.waiting(),
      placedUsers,
    },
  };
}
