import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decidePurchases } from '../src/domain/purchase.js';
import {
  addTicketType,
  availableOf,
  checkPurchaseItems,
  checkQuota,
  checkTicketTypeNames,
  decideItemPurchases,
  drawsOf,
  EVENT_POOL,
  fits,
  freeIn,
  MAX_TICKET_TYPES,
  planItemPromotions,
  resizePool,
  returnToPools,
  shortOf,
  summarizeWaitingLine,
  takeFromPools,
  typePool,
  waitingPlace,
  type ItemDecisionState,
  type Pool,
  type PurchaseItem,
  type TicketPools,
  type WaitingItemPurchase,
} from '../src/domain/ticket-types.js';
import { planPromotions } from '../src/domain/waitlist.js';

/** An event of `total` tickets with types by name: each a quota (null: none), and what it sold. */
function event(total: number, types: Record<string, { quota: number | null; sold?: number }>): TicketPools {
  const pools = new Map<string, Pool>(
    Object.entries(types).map(([id, { quota, sold = 0 }]) => [id, { capacity: quota, sold, held: 0 }]),
  );
  const sold = [...pools.values()].reduce((sum, pool) => sum + pool.sold, 0);
  return { event: { capacity: total, sold, held: 0 }, types: pools };
}

const items = (counts: Record<string, number>): PurchaseItem[] =>
  Object.entries(counts).map(([ticketTypeId, quantity]) => ({ ticketTypeId, quantity }));
const waiting = (purchaseId: string, counts: Record<string, number>): WaitingItemPurchase => ({
  purchaseId,
  items: items(counts),
});
const buy = (id: string, counts: Record<string, number>, joinWaitlist = true) => ({
  id,
  userId: `user-${id}`,
  items: items(counts),
  joinWaitlist,
});
const sale = (
  pools: TicketPools,
  waitingLine: WaitingItemPurchase[] = [],
  holds = false,
): ItemDecisionState => ({
  pools,
  holds,
  waiting: summarizeWaitingLine(waitingLine),
  placedUsers: new Set(waitingLine.map((entry) => `user-${entry.purchaseId}`)),
});
/** The line after a batch: the one it started from, and the purchases it put on it in order. */
const lineAfter = (line: readonly WaitingItemPurchase[], result: ReturnType<typeof decideItemPurchases>) => [
  ...line,
  ...result.decided
    .filter(({ decision }) => decision.status === 'waitlisted')
    .map(({ purchase }) => ({ purchaseId: purchase.id, items: purchase.items })),
];
const statuses = (result: ReturnType<typeof decideItemPurchases>) =>
  Object.fromEntries(result.decided.map(({ purchase, decision }) => [purchase.id, decision.status]));
const ids = (entries: readonly WaitingItemPurchase[]) => entries.map((entry) => entry.purchaseId);

describe('pools and fitting', () => {
  it('when a purchase names items, then it draws its total from the event and each item from its type', () => {
    expect([...drawsOf(items({ adult: 2, child: 1 }))]).toEqual([
      [EVENT_POOL, 3],
      ['type:adult', 2],
      ['type:child', 1],
    ]);
  });

  it('when one pool of a family has no room, then nothing fits and only that pool is short', () => {
    const pools = event(10, { adult: { quota: 6 }, child: { quota: 2, sold: 2 } });
    expect(fits(pools, items({ adult: 2, child: 1 }))).toBe(false);
    expect(shortOf(pools, drawsOf(items({ adult: 2, child: 1 })))).toEqual(['type:child']);
    expect(fits(pools, items({ adult: 2 }))).toBe(true);
  });

  it('when a type has no quota, then only the event bounds it, and its sold tickets are still counted', () => {
    const pools = takeFromPools(
      event(5, { standing: { quota: null } }),
      drawsOf(items({ standing: 4 })),
      'sold',
    );
    expect(pools.types.get('standing')).toEqual({ capacity: null, sold: 4, held: 0 });
    expect(freeIn(pools.types.get('standing')!)).toBe(Infinity);
    expect(availableOf(pools, 'standing')).toBe(1);
    expect(fits(pools, items({ standing: 2 }))).toBe(false);
  });

  it('when tickets are taken and given back, then every pool they drew on moves and the others do not', () => {
    const start = event(10, { vip: { quota: 3 }, standing: { quota: null } });
    const draws = drawsOf(items({ vip: 1, standing: 2 }));
    const held = takeFromPools(start, draws, 'held');
    expect(held.event).toEqual({ capacity: 10, sold: 0, held: 3 });
    expect(held.types.get('vip')).toEqual({ capacity: 3, sold: 0, held: 1 });
    expect(returnToPools(held, draws, 'held')).toEqual(start);
  });
});

describe('deciding purchases with items', () => {
  it('when VIP runs out first, then VIP buyers wait or are refused while standing tickets are still sold', () => {
    const result = decideItemPurchases(sale(event(10, { vip: { quota: 2 }, standing: { quota: null } })), [
      buy('a', { vip: 2 }),
      buy('b', { vip: 1 }, false),
      buy('c', { standing: 3 }),
      buy('d', { vip: 1 }),
      buy('e', { standing: 2 }),
    ]);
    expect(statuses(result)).toEqual({
      a: 'confirmed',
      b: 'rejected',
      c: 'confirmed',
      d: 'waitlisted',
      e: 'confirmed',
    });
    expect(result.decided[1]?.decision).toEqual({ status: 'rejected', reason: 'sold_out' });
    expect(result.decided[3]?.decision).toEqual({
      status: 'waitlisted',
      waitingFor: ['type:vip'],
      waitlistPosition: 1,
    });
    expect(result.state.pools.event).toEqual({ capacity: 10, sold: 7, held: 0 });
    expect(availableOf(result.state.pools, 'vip')).toBe(0);
    expect(availableOf(result.state.pools, 'standing')).toBe(3);
    expect(ids(lineAfter([], result))).toEqual(['d']);
  });

  it('when a purchase of two types does not fit in one of them, then it takes nothing from the other', () => {
    const pools = event(10, { vip: { quota: 1, sold: 1 }, standing: { quota: null } });
    const refused = decideItemPurchases(sale(pools), [buy('a', { vip: 1, standing: 1 }, false)]);
    expect(refused.decided[0]?.decision).toEqual({ status: 'rejected', reason: 'sold_out' });
    expect(refused.state.pools).toEqual(pools);
    const waits = decideItemPurchases(sale(pools), [buy('a', { vip: 1, standing: 1 })]);
    expect(waits.decided[0]?.decision).toMatchObject({ status: 'waitlisted', waitingFor: ['type:vip'] });
    expect(waits.state.pools).toEqual(pools);
  });

  it('when someone waits for the event capacity itself, then every new purchase waits behind them', () => {
    const pools = event(4, { adult: { quota: null, sold: 3 }, child: { quota: null } });
    const result = decideItemPurchases(sale(pools, [waiting('family', { adult: 2, child: 1 })]), [
      buy('a', { adult: 1 }),
      buy('c', { child: 1 }),
    ]);
    expect(result.decided.map(({ decision }) => decision)).toEqual([
      { status: 'waitlisted', waitingFor: [EVENT_POOL], waitlistPosition: 2 },
      { status: 'waitlisted', waitingFor: [EVENT_POOL], waitlistPosition: 3 },
    ]);
  });

  it('when someone waits for the VIP quota only, then a newcomer for VIP waits behind them and one for standing does not', () => {
    const pools = event(10, { vip: { quota: 2, sold: 2 }, standing: { quota: null } });
    const result = decideItemPurchases(sale(pools, [waiting('v', { vip: 1 })]), [
      buy('s', { standing: 2 }),
      buy('w', { vip: 1 }),
      buy('both', { vip: 1, standing: 1 }),
    ]);
    expect(result.decided.map(({ decision }) => decision)).toEqual([
      { status: 'confirmed' },
      { status: 'waitlisted', waitingFor: ['type:vip'], waitlistPosition: 2 },
      { status: 'waitlisted', waitingFor: ['type:vip'], waitlistPosition: 3 },
    ]);
  });

  it('when a waiting purchase is held up by another but not short itself, then it reserves nothing; once it is short, it blocks that pool too', () => {
    // `e` waits behind `a` for VIP; standing has room for it, so a newcomer may still take standing.
    const pools = event(20, { vip: { quota: 2, sold: 1 }, standing: { quota: 3, sold: 1 } });
    const line = [waiting('a', { vip: 2 }), waiting('e', { vip: 1, standing: 2 })];
    expect(planItemPromotions(pools, line, false).promoted).toEqual([]);
    const result = decideItemPurchases(sale(pools, line), [
      buy('s1', { standing: 1 }),
      buy('s2', { standing: 1 }),
    ]);
    expect(result.decided.map(({ decision }) => decision)).toEqual([
      { status: 'confirmed' },
      // Now `e` is short of standing as well: nobody behind it takes its standing tickets.
      { status: 'waitlisted', waitingFor: ['type:standing'], waitlistPosition: 2 },
    ]);
    expect(waitingPlace(result.state.pools, lineAfter(line, result), 'e')).toEqual({
      waitingFor: ['type:vip', 'type:standing'],
      waitlistPosition: 2,
    });
  });

  it('when the event holds tickets for payment, then a purchase that fits is held in every pool', () => {
    const result = decideItemPurchases(sale(event(5, { vip: { quota: 2 } }), [], true), [
      buy('a', { vip: 2 }),
    ]);
    expect(result.decided[0]?.decision).toEqual({ status: 'held' });
    expect(result.state.pools.types.get('vip')).toEqual({ capacity: 2, sold: 0, held: 2 });
    expect(result.state.pools.event).toEqual({ capacity: 5, sold: 0, held: 2 });
  });

  it('when a user already has a placed purchase, then a second one is rejected as a duplicate and takes nothing', () => {
    const pools = event(5, { vip: { quota: null } });
    const result = decideItemPurchases(sale(pools), [
      buy('a', { vip: 1 }),
      { ...buy('b', { vip: 1 }), userId: 'user-a' },
    ]);
    expect(result.decided[1]?.decision).toEqual({ status: 'rejected', reason: 'duplicate_purchase' });
    expect(result.state.pools.event.sold).toBe(1);
  });
});

describe('walking the waiting line', () => {
  it('when a standing ticket comes back, then a waiting VIP buyer does not block the standing buyer behind them', () => {
    const sold = event(5, { vip: { quota: 1, sold: 1 }, standing: { quota: null, sold: 4 } });
    const back = returnToPools(sold, drawsOf(items({ standing: 2 })), 'sold');
    const { promoted, pools } = planItemPromotions(
      back,
      [waiting('v', { vip: 1 }), waiting('s', { standing: 2 })],
      false,
    );
    expect(ids(promoted)).toEqual(['s']);
    expect(pools.event).toEqual({ capacity: 5, sold: 5, held: 0 });
  });

  it('when a waiting family is short of the event capacity, then a single adult behind them who would fit waits', () => {
    const pools = event(5, { adult: { quota: null, sold: 3 }, child: { quota: null, sold: 1 } });
    const line = [waiting('family', { adult: 2, child: 1 }), waiting('single', { adult: 1 })];
    expect(ids(planItemPromotions(pools, line, false).promoted)).toEqual([]);
    expect(waitingPlace(pools, line, 'single')).toEqual({ waitingFor: [EVENT_POOL], waitlistPosition: 2 });
  });

  it('when a waiting family is short of the adult quota, then a single adult behind them waits and a child does not', () => {
    const pools = event(20, { adult: { quota: 4, sold: 3 }, child: { quota: 5 } });
    const line = [
      waiting('family', { adult: 2, child: 1 }),
      waiting('single', { adult: 1 }),
      waiting('kid', { child: 1 }),
    ];
    const { promoted } = planItemPromotions(pools, line, false);
    expect(ids(promoted)).toEqual(['kid']);
    expect(waitingPlace(pools, line, 'family')).toEqual({ waitingFor: ['type:adult'], waitlistPosition: 1 });
    expect(waitingPlace(pools, line, 'single')).toEqual({ waitingFor: ['type:adult'], waitlistPosition: 2 });
  });

  it('when a type’s quota is raised while people wait, then they are promoted in order as far as the new room goes', () => {
    const pools = event(20, { vip: { quota: 2, sold: 2 }, standing: { quota: null } });
    const line = [waiting('a', { vip: 2 }), waiting('b', { vip: 2 }), waiting('c', { vip: 1 })];
    const raised = resizePool(pools, typePool('vip'), 5);
    const { promoted, pools: after } = planItemPromotions(raised, line, true);
    // `b` does not fit in the one VIP ticket left, so `c` behind it waits too.
    expect(ids(promoted)).toEqual(['a']);
    expect(after.types.get('vip')).toEqual({ capacity: 5, sold: 2, held: 2 });
    expect(waitingPlace(after, line.slice(1), 'c')).toEqual({
      waitingFor: ['type:vip'],
      waitlistPosition: 2,
    });
  });

  it('when a promotion leaves a purchase ahead short of a pool, then it blocks that pool for the rest of the walk', () => {
    // `e` waits behind `a` for VIP with room in standing; `x` takes one standing ticket, and now `e` is
    // short of standing: `y` may not take the last one.
    const pools = event(20, { vip: { quota: 2, sold: 1 }, standing: { quota: 2 } });
    const line = [
      waiting('a', { vip: 2 }),
      waiting('e', { vip: 1, standing: 2 }),
      waiting('x', { standing: 1 }),
      waiting('y', { standing: 1 }),
    ];
    expect(ids(planItemPromotions(pools, line, false).promoted)).toEqual(['x']);
  });

  it('when the line is walked again after a walk, then nobody more is promoted (the line is settled)', () => {
    const pools = event(6, { vip: { quota: 2 }, standing: { quota: 3 } });
    const line = [
      waiting('a', { vip: 3 }),
      waiting('e', { vip: 1, standing: 2 }),
      waiting('s', { standing: 3 }),
      waiting('t', { standing: 1 }),
    ];
    const first = planItemPromotions(pools, line, false);
    expect(ids(first.promoted)).toEqual(['s']);
    const rest = line.filter((entry) => !ids(first.promoted).includes(entry.purchaseId));
    expect(planItemPromotions(first.pools, rest, false).promoted).toEqual([]);
  });
});

describe('resizes and new types', () => {
  it('when a quota would go below what is sold and held, then it is refused; lifting the quota is always allowed', () => {
    const vip: Pool = { capacity: 5, sold: 2, held: 1 };
    expect(checkQuota(vip, 3)).toBeUndefined();
    expect(checkQuota(vip, 2)).toEqual({
      code: 'below_sold_and_held',
      message: 'quota cannot be below the 3 tickets sold or held',
    });
    expect(checkQuota(vip, null)).toBeUndefined();
  });

  it('when purchases took more than a resize allows by its turn, then the resize keeps every taken ticket', () => {
    const pools = event(10, { vip: { quota: 5, sold: 4 } });
    expect(resizePool(pools, typePool('vip'), 2).types.get('vip')?.capacity).toBe(4);
    expect(resizePool(pools, EVENT_POOL, 3).event.capacity).toBe(4);
    expect(resizePool(pools, typePool('vip'), null).types.get('vip')?.capacity).toBeNull();
  });

  it('when a type is added, then it starts empty and nobody waits for it', () => {
    const pools = addTicketType(event(10, { vip: { quota: 2 } }), 'balcony', 3);
    expect(pools.types.get('balcony')).toEqual({ capacity: 3, sold: 0, held: 0 });
    expect(() => addTicketType(pools, 'vip', 1)).toThrow(/exists/);
  });

  it('when items name an unknown or repeated type or too many tickets, then they are refused', () => {
    const types = new Set(['adult', 'child']);
    expect(checkPurchaseItems(types, items({ adult: 2, child: 1 }), 3)).toBeUndefined();
    expect(checkPurchaseItems(types, items({ vip: 1 }), 3)?.code).toBe('unknown_ticket_type');
    expect(checkPurchaseItems(types, [...items({ adult: 1 }), ...items({ adult: 1 })], 3)?.code).toBe(
      'duplicate_ticket_type',
    );
    expect(checkPurchaseItems(types, items({ adult: 3, child: 1 }), 3)?.code).toBe('quantity_over_limit');
  });

  it('when an event lists too many types or two with one name, then it is refused', () => {
    expect(checkTicketTypeNames(['adult', 'child'])).toBeUndefined();
    expect(checkTicketTypeNames(['adult', 'adult'])?.code).toBe('duplicate_ticket_type_name');
    expect(checkTicketTypeNames(Array.from({ length: MAX_TICKET_TYPES + 1 }, (_, i) => `t${i}`))?.code).toBe(
      'too_many_ticket_types',
    );
  });
});

describe('one type is today', () => {
  /**
   * One type, with or without a quota of its own, and a settled line (its head does not fit: the rounds
   * keep it so, and the sale model checks it). `available` is what today's rules see.
   */
  const oneType = fc
    .record({
      total: fc.integer({ min: 0, max: 12 }),
      quota: fc.option(fc.integer({ min: 0, max: 12 }), { nil: null }),
      sold: fc.integer({ min: 0, max: 12 }),
      held: fc.integer({ min: 0, max: 12 }),
      holds: fc.boolean(),
      line: fc.array(fc.integer({ min: 1, max: 5 }), { maxLength: 6 }),
    })
    .map(({ total, quota, sold, held, holds, line }) => {
      const taken = Math.min(sold + held, total, quota ?? total);
      const soldNow = Math.min(sold, taken);
      const pool = { sold: soldNow, held: taken - soldNow };
      const pools: TicketPools = {
        event: { capacity: total, ...pool },
        types: new Map([['only', { capacity: quota, ...pool }]]),
      };
      return { pools, holds, available: availableOf(pools, 'only'), line };
    });
  const toLine = (quantities: readonly number[]) =>
    quantities.map((quantity, index) => waiting(`w${index}`, { only: quantity }));

  it('when every purchase is of one type, then deciding a batch agrees with decidePurchases exactly', () => {
    const purchase = fc.record({
      user: fc.integer({ min: 0, max: 9 }),
      quantity: fc.integer({ min: 1, max: 5 }),
      joinWaitlist: fc.boolean(),
    });
    fc.assert(
      fc.property(
        oneType,
        fc.array(purchase, { maxLength: 12 }),
        fc.array(fc.integer({ min: 0, max: 9 })),
        (state, batch, placed) => {
          // Settled: the head does not fit.
          const line = state.line.map((quantity, index) =>
            index === 0 ? state.available + quantity : quantity,
          );
          const placedUsers = new Set(placed.map((user) => `u${user}`));
          const pending = batch.map((p, index) => ({
            id: `p${index}`,
            userId: `u${p.user}`,
            quantity: p.quantity,
            joinWaitlist: p.joinWaitlist,
          }));
          const today = decidePurchases(
            {
              availableTickets: state.available,
              holds: state.holds,
              waitlistLength: line.length,
              placedUsers,
            },
            pending,
          );
          const withTypes = decideItemPurchases(
            {
              pools: state.pools,
              holds: state.holds,
              waiting: summarizeWaitingLine(toLine(line)),
              placedUsers,
            },
            pending.map(({ quantity, ...p }) => ({ ...p, items: items({ only: quantity }) })),
          );
          expect(
            withTypes.decided.map(({ decision }) =>
              decision.status === 'waitlisted'
                ? { status: decision.status, waitlistPosition: decision.waitlistPosition }
                : decision,
            ),
          ).toEqual(today.decided.map(({ decision }) => decision));
          expect(availableOf(withTypes.state.pools, 'only')).toBe(today.state.availableTickets);
          expect(withTypes.state.waiting.get(EVENT_POOL)?.purchases ?? 0).toBe(today.state.waitlistLength);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('when every purchase is of one type, then walking the line agrees with planPromotions exactly', () => {
    fc.assert(
      fc.property(oneType, (state) => {
        const today = planPromotions(
          state.available,
          state.line.map((quantity, index) => ({ purchaseId: `w${index}`, quantity })),
        );
        const withTypes = planItemPromotions(state.pools, toLine(state.line), state.holds);
        expect(ids(withTypes.promoted)).toEqual(today.promoted.map((entry) => entry.purchaseId));
        expect(availableOf(withTypes.pools, 'only')).toBe(today.availableTickets);
        // And every waiting purchase competes with everyone ahead of it, for the event's tickets.
        const rest = toLine(state.line).slice(today.promoted.length);
        rest.forEach((entry, index) =>
          expect(waitingPlace(withTypes.pools, rest, entry.purchaseId)?.waitlistPosition).toBe(index + 1),
        );
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('the worked example of docs/ticket-types.md', () => {
  it('when the example is played, then each step is as the doc says', () => {
    const start = event(8, { adult: { quota: null }, child: { quota: 2 }, vip: { quota: 2 } });
    const first = decideItemPurchases(sale(start), [
      buy('p1', { vip: 2 }),
      buy('p2', { adult: 3 }),
      buy('p3', { vip: 1 }),
      buy('p4', { adult: 1 }),
      buy('p5', { adult: 2, child: 1 }),
      buy('p6', { child: 1 }),
    ]);
    expect(first.decided.map(({ decision }) => decision)).toEqual([
      { status: 'confirmed' },
      { status: 'confirmed' },
      { status: 'waitlisted', waitingFor: ['type:vip'], waitlistPosition: 1 },
      { status: 'confirmed' },
      { status: 'waitlisted', waitingFor: [EVENT_POOL], waitlistPosition: 2 },
      { status: 'waitlisted', waitingFor: [EVENT_POOL], waitlistPosition: 3 },
    ]);
    expect(freeIn(first.state.pools.event)).toBe(2);

    // p2 cancels: 3 tickets come back.
    const back = returnToPools(first.state.pools, drawsOf(items({ adult: 3 })), 'sold');
    const walk = planItemPromotions(back, lineAfter([], first), false);
    expect(ids(walk.promoted)).toEqual(['p5', 'p6']);
    expect(freeIn(walk.pools.event)).toBe(1);
    const line = lineAfter([], first).filter((entry) => entry.purchaseId === 'p3');
    expect(waitingPlace(walk.pools, line, 'p3')).toEqual({ waitingFor: ['type:vip'], waitlistPosition: 1 });

    const placed = new Set(['p1', 'p3', 'p4', 'p5', 'p6'].map((id) => `user-${id}`));
    const later = decideItemPurchases(
      { pools: walk.pools, holds: false, waiting: summarizeWaitingLine(line), placedUsers: placed },
      [buy('p7', { vip: 1 }), buy('p8', { adult: 1 }), buy('p9', { child: 1 })],
    );
    expect(later.decided.map(({ decision }) => decision)).toEqual([
      { status: 'waitlisted', waitingFor: ['type:vip'], waitlistPosition: 2 },
      { status: 'confirmed' },
      { status: 'waitlisted', waitingFor: [EVENT_POOL, 'type:child'], waitlistPosition: 3 },
    ]);
  });
});

describe('a walk in pages', () => {
  const line = fc.array(
    fc
      .uniqueArray(
        fc.record({ type: fc.constantFrom('a', 'b', 'c'), quantity: fc.integer({ min: 1, max: 3 }) }),
        {
          selector: (item) => item.type,
          minLength: 1,
          maxLength: 2,
        },
      )
      .map((picked) => Object.fromEntries(picked.map(({ type, quantity }) => [type, quantity]))),
    { maxLength: 12 },
  );
  const pools = fc
    .record({
      total: fc.integer({ min: 0, max: 12 }),
      a: fc.option(fc.integer({ min: 0, max: 6 }), { nil: null }),
      b: fc.option(fc.integer({ min: 0, max: 6 }), { nil: null }),
      c: fc.option(fc.integer({ min: 0, max: 6 }), { nil: null }),
    })
    .map(({ total, a, b, c }) => event(total, { a: { quota: a }, b: { quota: b }, c: { quota: c } }));

  it('when a line is walked in two pages, each handing on its pools and its summary, then it promotes as one walk does', () => {
    fc.assert(
      fc.property(pools, line, fc.nat(), fc.boolean(), (start, counts, cut, holds) => {
        const entries = counts.map((count, index) => waiting(`w${index}`, count));
        const at = cut % (entries.length + 1);
        const whole = planItemPromotions(start, entries, holds);
        const first = planItemPromotions(start, entries.slice(0, at), holds);
        const second = planItemPromotions(first.pools, entries.slice(at), holds, first.waiting);
        expect(ids([...first.promoted, ...second.promoted])).toEqual(ids(whole.promoted));
        expect(second.pools).toEqual(whole.pools);
        expect(second.waiting).toEqual(whole.waiting);
        // The line left is settled, and its summary is the one handed on.
        const rest = entries.filter((entry) => !ids(whole.promoted).includes(entry.purchaseId));
        expect(planItemPromotions(whole.pools, rest, holds).promoted).toEqual([]);
        expect(summarizeWaitingLine(rest)).toEqual(whole.waiting);
      }),
      { numRuns: 1_000 },
    );
  });
});
