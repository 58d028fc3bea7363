import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cancellationEffect, checkCancellable } from '../src/domain/cancellation.js';
import { expiryEffect } from '../src/domain/hold.js';
import type { PurchaseStatus } from '../src/domain/purchase.js';
import { checkResize } from '../src/domain/sale-operations.js';
import {
  checkQuota,
  confirmHeldInPools,
  decideItemPurchases,
  drawsOf,
  EVENT_POOL,
  freeIn,
  planItemPromotions,
  resizePool,
  returnToPools,
  summarizeWaitingLine,
  typePool,
  waitingPlace,
  type Draws,
  type Pool,
  type PoolKey,
  type PurchaseItem,
  type TicketPools,
} from '../src/domain/ticket-types.js';

/**
 * A model-based test of ticket types. The system under test is the worker's way, built from the pure
 * functions of domain/ticket-types.ts: requests (purchases with items, cancellations, expiries, resizes
 * of the event's capacity or a type's quota) take numbers in one queue, and each delivered job applies
 * every pending request up to its own number, purchases in batches through `decideItemPurchases`, every
 * other request by its effect on the pools and then `planItemPromotions`. Jobs arrive late, twice, or
 * not at all (a final delivery stands for the reconciler); holds are paid for outside the queue. The
 * reference is the plainest statement of the rules: one request at a time in number order, free
 * tickets counted from the purchases' statuses, and the line promoted by repeatedly taking the first
 * waiting purchase that fits and that nobody ahead of it is short of a pool for.
 */

interface Purchase {
  readonly id: number;
  readonly userId: string;
  readonly items: readonly PurchaseItem[];
  readonly joinWaitlist: boolean;
  status: PurchaseStatus;
  cancelRequested: boolean;
  expiring: boolean;
}

type Request =
  | { readonly kind: 'purchase'; readonly id: number }
  | { readonly kind: 'cancel'; readonly id: number }
  | { readonly kind: 'expire'; readonly id: number }
  | { readonly kind: 'resize'; readonly pool: PoolKey; readonly capacity: number | null };

interface Sale {
  readonly initial: TicketPools;
  readonly holds: boolean;
  pools: TicketPools;
  /** Purchase ids in line order. */
  line: number[];
  readonly purchases: Purchase[];
  readonly queue: Request[];
  applied: number;
  /** Holds paid for: each after how many requests had been applied. */
  readonly confirmations: { readonly id: number; readonly applied: number }[];
}

type Command =
  | {
      readonly kind: 'buy';
      readonly user: number;
      readonly items: readonly { readonly type: number; readonly quantity: number }[];
      readonly joinWaitlist: boolean;
    }
  | { readonly kind: 'cancel'; readonly pick: number }
  | { readonly kind: 'expire'; readonly pick: number }
  | { readonly kind: 'pay'; readonly pick: number }
  | { readonly kind: 'resize'; readonly pool: number; readonly capacity: number | null }
  | { readonly kind: 'deliver'; readonly pick: number };

const typeIds = (pools: TicketPools) => [...pools.types.keys()];

const purchaseOf = (sale: Sale, id: number): Purchase => {
  const purchase = sale.purchases[id];
  if (purchase === undefined) throw new Error(`no purchase ${id}`);
  return purchase;
};

const pick = (sale: Sale, index: number): Purchase | undefined =>
  sale.purchases[index % Math.max(1, sale.purchases.length)];

const lineEntries = (sale: Sale) =>
  sale.line.map((id) => ({ purchaseId: String(id), items: purchaseOf(sale, id).items }));

const taking = (status: PurchaseStatus) => status === 'held' || status === 'confirmed';

/** The api's side: accept a request into the queue, or refuse it (a refusal takes no number). */
function accept(sale: Sale, command: Command): void {
  if (command.kind === 'buy') {
    const types = typeIds(sale.initial);
    // Each type named once: the api refuses repeats (checkPurchaseItems).
    const items = [...new Map(command.items.map((item) => [item.type % types.length, item.quantity]))].map(
      ([type, quantity]) => ({ ticketTypeId: types[type] ?? '', quantity }),
    );
    const id = sale.purchases.length;
    sale.purchases.push({
      id,
      userId: `u${command.user}`,
      items,
      joinWaitlist: command.joinWaitlist,
      status: 'queued',
      cancelRequested: false,
      expiring: false,
    });
    sale.queue.push({ kind: 'purchase', id });
  } else if (command.kind === 'cancel') {
    const purchase = pick(sale, command.pick);
    if (purchase === undefined || checkCancellable(purchase) !== undefined) return;
    purchase.cancelRequested = true;
    sale.queue.push({ kind: 'cancel', id: purchase.id });
  } else if (command.kind === 'expire') {
    // The sweep finds a hold past its time (the clock is the sale model's business, not this one's).
    const purchase = pick(sale, command.pick);
    if (purchase?.status !== 'held' || purchase.expiring || purchase.cancelRequested) return;
    purchase.expiring = true;
    sale.queue.push({ kind: 'expire', id: purchase.id });
  } else if (command.kind === 'pay') {
    // The shop confirms a hold on the spot, outside the queue, while it is held and not on its way out.
    const purchase = pick(sale, command.pick);
    if (purchase?.status !== 'held' || purchase.expiring || purchase.cancelRequested) return;
    purchase.status = 'confirmed';
    sale.pools = confirmHeldInPools(sale.pools, drawsOf(purchase.items));
    sale.confirmations.push({ id: purchase.id, applied: sale.applied });
  } else if (command.kind === 'resize') {
    // Checked against what the api sees now; the queue keeps every taken ticket when its turn comes.
    const types = typeIds(sale.initial);
    const index = command.pool % (types.length + 1);
    const pool = index === 0 ? EVENT_POOL : typePool(types[index - 1] ?? '');
    if (pool === EVENT_POOL) {
      const { sold, held } = sale.pools.event;
      if (command.capacity === null) return;
      if (checkResize({ soldTickets: sold, heldTickets: held }, command.capacity) !== undefined) return;
    } else {
      const current = sale.pools.types.get(pool.slice('type:'.length));
      if (current === undefined || checkQuota(current, command.capacity) !== undefined) return;
    }
    sale.queue.push({ kind: 'resize', pool, capacity: command.capacity });
  }
}

/**
 * The waiting-line rule, checked on the turns of one step as they happened: whoever gets tickets is
 * short of no pool, and no purchase ahead of it still waiting at that moment is short of a pool it draws
 * on. `ahead` is the line before the step; `turns` the purchases whose turn came, in order.
 */
function checkNobodySkips(
  pools: TicketPools,
  ahead: readonly Draws[],
  turns: readonly { readonly draws: Draws; readonly gotTickets: boolean }[],
): void {
  const free = new Map<PoolKey, number>([[EVENT_POOL, freeIn(pools.event)]]);
  for (const [id, pool] of pools.types) free.set(typePool(id), freeIn(pool));
  const waiting = [...ahead];
  const shortOf = (draws: Draws) => [...draws].filter(([key, need]) => (free.get(key) ?? 0) < need);
  for (const { draws, gotTickets } of turns) {
    if (!gotTickets) {
      waiting.push(draws);
      continue;
    }
    expect(shortOf(draws)).toEqual([]);
    for (const earlier of waiting) expect(shortOf(earlier).filter(([key]) => draws.has(key))).toEqual([]);
    for (const [key, need] of draws) free.set(key, (free.get(key) ?? 0) - need);
  }
}

function promote(sale: Sale): void {
  const before = sale.line;
  const { promoted, pools } = planItemPromotions(sale.pools, lineEntries(sale), sale.holds);
  const promotedIds = new Set(promoted.map((entry) => Number(entry.purchaseId)));
  checkNobodySkips(
    sale.pools,
    [],
    before.map((id) => ({ draws: drawsOf(purchaseOf(sale, id).items), gotTickets: promotedIds.has(id) })),
  );
  for (const id of promotedIds) purchaseOf(sale, id).status = sale.holds ? 'held' : 'confirmed';
  sale.line = before.filter((id) => !promotedIds.has(id));
  sale.pools = pools;
}

const placedUsers = (sale: Sale): Set<string> =>
  new Set(
    sale.purchases
      .filter((p) => p.status === 'held' || p.status === 'confirmed' || p.status === 'waitlisted')
      .map((p) => p.userId),
  );

/** The system under test: the worker's batches, built from the domain functions. */
function applyUpTo(sale: Sale, position: number): void {
  while (sale.applied < position) {
    const batch: Purchase[] = [];
    while (sale.applied + batch.length < position) {
      const request = sale.queue[sale.applied + batch.length];
      if (request?.kind !== 'purchase') break;
      batch.push(purchaseOf(sale, request.id));
    }
    if (batch.length > 0) {
      const before = {
        pools: sale.pools,
        holds: sale.holds,
        waiting: summarizeWaitingLine(lineEntries(sale)),
        placedUsers: placedUsers(sale),
      };
      const pending = batch.map((p) => ({
        id: String(p.id),
        userId: p.userId,
        items: p.items,
        joinWaitlist: p.joinWaitlist,
      }));
      const { decided, state } = decideItemPurchases(before, pending);
      checkNobodySkips(
        sale.pools,
        sale.line.map((id) => drawsOf(purchaseOf(sale, id).items)),
        decided
          .filter(({ decision }) => decision.status !== 'rejected')
          .map(({ purchase, decision }) => ({
            draws: drawsOf(purchase.items),
            gotTickets: taking(decision.status),
          })),
      );
      decided.forEach(({ purchase, decision }, index) => {
        purchaseOf(sale, Number(purchase.id)).status = decision.status;
        if (decision.status !== 'waitlisted') return;
        sale.line.push(Number(purchase.id));
        // The purchase view, read just after this decision, says what the decision said.
        const then = decideItemPurchases(before, pending.slice(0, index + 1)).state;
        expect(waitingPlace(then.pools, lineEntries(sale), purchase.id)).toEqual({
          waitingFor: decision.waitingFor,
          waitlistPosition: decision.waitlistPosition,
        });
      });
      sale.pools = state.pools;
      // The summary the batch hands on is the line's.
      expect(state.waiting).toEqual(summarizeWaitingLine(lineEntries(sale)));
      sale.applied += batch.length;
      continue;
    }
    const request = sale.queue[sale.applied];
    if (request === undefined) return;
    if (request.kind === 'cancel') {
      const purchase = purchaseOf(sale, request.id);
      const effect = cancellationEffect(purchase.status);
      const draws = drawsOf(purchase.items);
      if (effect === 'free_booking') sale.pools = returnToPools(sale.pools, draws, 'sold');
      if (effect === 'free_hold') sale.pools = returnToPools(sale.pools, draws, 'held');
      if (effect === 'leave_waitlist') sale.line = sale.line.filter((id) => id !== purchase.id);
      if (effect !== 'none') purchase.status = 'cancelled';
    } else if (request.kind === 'expire') {
      const purchase = purchaseOf(sale, request.id);
      if (expiryEffect(purchase.status) === 'free_hold') {
        sale.pools = returnToPools(sale.pools, drawsOf(purchase.items), 'held');
        purchase.status = 'expired';
      }
    } else if (request.kind === 'resize') sale.pools = resizePool(sale.pools, request.pool, request.capacity);
    promote(sale);
    sale.applied += 1;
  }
}

/** What a purchase takes from each pool: every ticket from the event, each item from its type. */
function plainNeeds(items: readonly PurchaseItem[]): Map<PoolKey, number> {
  const need = new Map<PoolKey, number>();
  for (const { ticketTypeId, quantity } of items) {
    need.set(EVENT_POOL, (need.get(EVENT_POOL) ?? 0) + quantity);
    need.set(typePool(ticketTypeId), (need.get(typePool(ticketTypeId)) ?? 0) + quantity);
  }
  return need;
}

/**
 * The waiting rule in its plainest form, over the pools' free tickets as they are now: a purchase gets
 * tickets when it is short of nothing and nobody waiting ahead of it is short of a pool it draws on;
 * when tickets come back, the first waiting purchase of which that is true is promoted, again and again.
 */
function plainRules(free: (pool: PoolKey) => number, needs: (id: number) => Map<PoolKey, number>) {
  const shortOf = (id: number) =>
    [...needs(id)].filter(([pool, need]) => free(pool) < need).map(([pool]) => pool);
  /** Someone in `ahead` is short of a pool `id` draws on. */
  const heldUpBy = (id: number, ahead: readonly number[]) =>
    ahead.some((other) => shortOf(other).some((pool) => needs(id).has(pool)));
  return {
    shortOf,
    heldUpBy,
    mayTake: (id: number, ahead: readonly number[]) => shortOf(id).length === 0 && !heldUpBy(id, ahead),
    nextPromotion: (line: readonly number[]) =>
      line.findIndex((id, index) => shortOf(id).length === 0 && !heldUpBy(id, line.slice(0, index))),
  };
}

/** The reference model: the rules spelled out, one request at a time, confirmations where they were. */
function referenceOutcome(sale: Sale) {
  const { initial, holds, queue, purchases, confirmations } = sale;
  const status = new Map<number, PurchaseStatus>();
  const capacity = new Map<PoolKey, number | null>([[EVENT_POOL, initial.event.capacity]]);
  for (const [id, pool] of initial.types) capacity.set(typePool(id), pool.capacity);
  let line: number[] = [];

  const needs = (id: number) => plainNeeds(purchases[id]?.items ?? []);
  const taken = (pool: PoolKey, ...statuses: PurchaseStatus[]) =>
    purchases
      .filter((p) => statuses.includes(status.get(p.id) ?? 'queued'))
      .reduce((sum, p) => sum + (needs(p.id).get(pool) ?? 0), 0);
  const free = (pool: PoolKey) => {
    const bound = capacity.get(pool) ?? null;
    return bound === null ? Infinity : bound - taken(pool, 'held', 'confirmed');
  };
  const rules = plainRules(free, needs);
  const give = (id: number) => status.set(id, holds ? 'held' : 'confirmed');
  const promote = () => {
    for (let next = rules.nextPromotion(line); next !== -1; next = rules.nextPromotion(line)) {
      give(line[next] ?? -1);
      line.splice(next, 1);
    }
  };
  const confirmAfter = (applied: number) => {
    for (const { id } of confirmations.filter((c) => c.applied === applied)) {
      expect(status.get(id)).toBe('held');
      status.set(id, 'confirmed');
    }
  };

  confirmAfter(0);
  queue.forEach((request, index) => {
    if (request.kind === 'purchase') {
      const purchase = purchases[request.id];
      if (purchase === undefined) return;
      const placed = purchases.some(
        (other) =>
          other.userId === purchase.userId &&
          ['held', 'confirmed', 'waitlisted'].includes(status.get(other.id) ?? ''),
      );
      if (placed) status.set(purchase.id, 'rejected');
      else if (rules.mayTake(purchase.id, line)) give(purchase.id);
      else if (purchase.joinWaitlist) {
        line.push(purchase.id);
        status.set(purchase.id, 'waitlisted');
      } else status.set(purchase.id, 'rejected');
    } else {
      if (request.kind === 'cancel') {
        const current = status.get(request.id) ?? 'queued';
        if (current === 'waitlisted') line = line.filter((id) => id !== request.id);
        if (['queued', 'held', 'confirmed', 'waitlisted'].includes(current))
          status.set(request.id, 'cancelled');
      } else if (request.kind === 'expire') {
        if (status.get(request.id) === 'held') status.set(request.id, 'expired');
      } else {
        const inUse = taken(request.pool, 'held', 'confirmed');
        capacity.set(request.pool, request.capacity === null ? null : Math.max(request.capacity, inUse));
      }
      promote();
    }
    confirmAfter(index + 1);
  });
  const pool = (key: PoolKey): Pool => ({
    capacity: capacity.get(key) ?? null,
    sold: taken(key, 'confirmed'),
    held: taken(key, 'held'),
  });
  return {
    status,
    line,
    pools: {
      event: { ...pool(EVENT_POOL), capacity: capacity.get(EVENT_POOL) ?? 0 },
      types: new Map(typeIds(initial).map((id) => [id, pool(typePool(id))])),
    },
  };
}

function checkInvariants(sale: Sale): void {
  const all: [PoolKey, Pool][] = [
    [EVENT_POOL, sale.pools.event],
    ...[...sale.pools.types].map(([id, pool]): [PoolKey, Pool] => [typePool(id), pool]),
  ];
  for (const [key, pool] of all) {
    // No pool oversold.
    expect(pool.sold).toBeGreaterThanOrEqual(0);
    expect(pool.held).toBeGreaterThanOrEqual(0);
    if (pool.capacity !== null) expect(pool.sold + pool.held).toBeLessThanOrEqual(pool.capacity);
    // Nothing lost: a pool's counts are exactly its purchases' tickets, sold or held.
    const inStatus = (status: PurchaseStatus) =>
      sale.purchases
        .filter((p) => p.status === status)
        .reduce((sum, p) => sum + (drawsOf(p.items).get(key) ?? 0), 0);
    expect([pool.sold, pool.held]).toEqual([inStatus('confirmed'), inStatus('held')]);
  }
  if (!sale.holds)
    expect(sale.purchases.filter((p) => p.status === 'held' || p.status === 'expired')).toEqual([]);
  const placed = sale.purchases.filter((p) => ['held', 'confirmed', 'waitlisted'].includes(p.status));
  expect(new Set(placed.map((p) => p.userId)).size).toBe(placed.length);
  // The line holds exactly the waiting purchases in queue order, and it is settled: nobody could move up.
  expect(sale.line).toEqual(sale.purchases.filter((p) => p.status === 'waitlisted').map((p) => p.id));
  expect(planItemPromotions(sale.pools, lineEntries(sale), sale.holds).promoted).toEqual([]);
}

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('buy' as const),
      // Few users, so a user often buys twice: the duplicate rule is exercised.
      user: fc.integer({ min: 0, max: 7 }),
      items: fc.array(
        fc.record({ type: fc.integer({ min: 0, max: 2 }), quantity: fc.integer({ min: 1, max: 3 }) }),
        { minLength: 1, maxLength: 2 },
      ),
      joinWaitlist: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('expire' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('pay' as const), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('resize' as const),
      pool: fc.nat(),
      capacity: fc.option(fc.integer({ min: 0, max: 12 }), { nil: null, freq: 4 }),
    }),
  },
  // Deliveries of any request's job, earlier ones included: late, repeated, out of order.
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat() }) },
);

const initialPools = fc
  .record({
    total: fc.integer({ min: 1, max: 12 }),
    quotas: fc.array(fc.option(fc.integer({ min: 0, max: 8 }), { nil: null }), {
      minLength: 1,
      maxLength: 3,
    }),
  })
  .map(({ total, quotas }): TicketPools => ({
    event: { capacity: total, sold: 0, held: 0 },
    types: new Map(quotas.map((quota, index) => [`t${index}`, { capacity: quota, sold: 0, held: 0 }])),
  }));

describe('ticket types model', () => {
  it('when purchases of several types, cancellations, expiries, payments, resizes and re-delivered jobs come in any order, then no pool is oversold, nothing is lost, nobody skips the line, and the sale matches the reference', () => {
    fc.assert(
      fc.property(
        initialPools,
        fc.boolean(),
        fc.array(command, { maxLength: 60 }),
        (pools, holds, commands) => {
          const sale: Sale = {
            initial: pools,
            holds,
            pools,
            line: [],
            purchases: [],
            queue: [],
            applied: 0,
            confirmations: [],
          };
          for (const next of commands) {
            if (next.kind === 'deliver') {
              const position = sale.queue.length === 0 ? 0 : (next.pick % sale.queue.length) + 1;
              applyUpTo(sale, position);
              applyUpTo(sale, position); // delivered twice: the second changes nothing
            } else if (holds || (next.kind !== 'expire' && next.kind !== 'pay')) accept(sale, next);
            checkInvariants(sale);
          }
          applyUpTo(sale, sale.queue.length);
          checkInvariants(sale);

          const reference = referenceOutcome(sale);
          expect(sale.purchases.map((p) => p.status)).toEqual(
            sale.purchases.map((p) => reference.status.get(p.id) ?? 'queued'),
          );
          expect(sale.line).toEqual(reference.line);
          expect(sale.pools).toEqual(reference.pools);
        },
      ),
      { numRuns: 1_000 },
    );
  });
});

/**
 * The walk and a batch after it, from any pools and any line (not only those a sale's history
 * reaches), against the plain rules: lines where a promotion leaves a purchase ahead short of a pool,
 * rare in a sale's history, are common here.
 */
describe('ticket types from any state', () => {
  const itemsArbitrary = fc
    .uniqueArray(
      fc.record({ type: fc.constantFrom('a', 'b', 'c'), quantity: fc.integer({ min: 1, max: 3 }) }),
      {
        selector: (item) => item.type,
        minLength: 1,
        maxLength: 3,
      },
    )
    .map((picked) => picked.map(({ type, quantity }) => ({ ticketTypeId: type, quantity })));
  const quota = fc.option(fc.integer({ min: 0, max: 6 }), { nil: null, freq: 4 });
  const state = fc.record({
    total: fc.integer({ min: 0, max: 14 }),
    quotas: fc.tuple(quota, quota, quota),
    line: fc.array(itemsArbitrary, { maxLength: 10 }),
    batch: fc.array(fc.record({ items: itemsArbitrary, joinWaitlist: fc.boolean() }), { maxLength: 8 }),
  });

  it('when the line is walked and new purchases are decided, then each gets tickets exactly when the plain rules say, at the place they say', () => {
    fc.assert(
      fc.property(state, ({ total, quotas, line, batch }) => {
        const pools: TicketPools = {
          event: { capacity: total, sold: 0, held: 0 },
          types: new Map(
            ['a', 'b', 'c'].map((id, index) => [id, { capacity: quotas[index] ?? null, sold: 0, held: 0 }]),
          ),
        };
        const all = [...line, ...batch.map((purchase) => purchase.items)];
        const needs = (id: number) => plainNeeds(all[id] ?? []);
        const takenNow = new Map<PoolKey, number>();
        const bound = (pool: PoolKey) =>
          pool === EVENT_POOL ? total : (pools.types.get(pool.slice('type:'.length))?.capacity ?? null);
        const free = (pool: PoolKey) => {
          const limit = bound(pool);
          return limit === null ? Infinity : limit - (takenNow.get(pool) ?? 0);
        };
        const give = (id: number) => {
          for (const [pool, need] of needs(id)) takenNow.set(pool, (takenNow.get(pool) ?? 0) + need);
        };
        const rules = plainRules(free, needs);

        // The walk.
        const waitingIds = line.map((_, index) => index);
        const promotedIds: number[] = [];
        for (
          let next = rules.nextPromotion(waitingIds);
          next !== -1;
          next = rules.nextPromotion(waitingIds)
        ) {
          const id = waitingIds.splice(next, 1)[0] ?? -1;
          give(id);
          promotedIds.push(id);
        }
        const entries = line.map((items, index) => ({ purchaseId: String(index), items }));
        const walk = planItemPromotions(pools, entries, false);
        expect(walk.promoted.map((entry) => Number(entry.purchaseId))).toEqual(promotedIds);

        // Then a batch, one purchase at a time.
        const expected = batch.map((purchase, index) => {
          const id = line.length + index;
          if (rules.mayTake(id, waitingIds)) {
            give(id);
            return { status: 'confirmed' };
          }
          if (!purchase.joinWaitlist) return { status: 'rejected', reason: 'sold_out' };
          const waitingFor = [...needs(id).keys()].filter(
            (pool) =>
              rules.shortOf(id).includes(pool) ||
              waitingIds.some((other) => rules.shortOf(other).includes(pool)),
          );
          const ahead = (pool: PoolKey) => waitingIds.filter((other) => needs(other).has(pool)).length;
          const waitlistPosition = 1 + Math.max(...waitingFor.map(ahead));
          waitingIds.push(id);
          return { status: 'waitlisted', waitingFor, waitlistPosition };
        });
        const { decided, state: after } = decideItemPurchases(
          { pools: walk.pools, holds: false, waiting: walk.waiting, placedUsers: new Set() },
          batch.map((purchase, index) => ({ id: `n${index}`, userId: `u${index}`, ...purchase })),
        );
        expect(decided.map(({ decision }) => decision)).toEqual(expected);
        const { event, types } = after.pools;
        expect(event.sold).toBe(takenNow.get(EVENT_POOL) ?? 0);
        for (const [id, pool] of types) expect(pool.sold).toBe(takenNow.get(typePool(id)) ?? 0);
      }),
      { numRuns: 2_000 },
    );
  });
});
