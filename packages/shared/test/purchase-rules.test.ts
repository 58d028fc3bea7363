import { describe, expect, it } from 'vitest';
import { decidePurchase, decidePurchases, isDecided, type DecisionState } from '../src/domain/purchase.js';

const sale = (
  availableTickets: number,
  waitlistLength = 0,
  placed: string[] = [],
  holds = false,
): DecisionState => ({
  availableTickets,
  holds,
  waitlistLength,
  placedUsers: new Set(placed),
});
const buy = (id: string, quantity = 1, joinWaitlist = true, userId = `user-${id}`) => ({
  id,
  userId,
  quantity,
  joinWaitlist,
});

describe('decidePurchase', () => {
  it('when enough tickets remain and nobody waits, then it is confirmed', () => {
    expect(decidePurchase(sale(2), buy('a', 2))).toEqual({ status: 'confirmed' });
  });

  it('when too few tickets remain, then it joins the waiting list at the tail (no partial fill)', () => {
    expect(decidePurchase(sale(2, 3), buy('a', 3))).toEqual({ status: 'waitlisted', waitlistPosition: 4 });
  });

  it('when someone waits, then a purchase that would fit still queues behind them', () => {
    expect(decidePurchase(sale(5, 1), buy('a', 1))).toEqual({ status: 'waitlisted', waitlistPosition: 2 });
  });

  it('when sold out and the buyer will not wait, then it is rejected as sold out', () => {
    expect(decidePurchase(sale(0), buy('a', 1, false))).toEqual({ status: 'rejected', reason: 'sold_out' });
  });

  it('when the event holds tickets for payment, then a purchase that fits is held instead of confirmed', () => {
    expect(decidePurchase(sale(2, 0, [], true), buy('a', 2))).toEqual({ status: 'held' });
    expect(decidePurchase(sale(1, 0, [], true), buy('a', 2))).toEqual({
      status: 'waitlisted',
      waitlistPosition: 1,
    });
  });

  it('when the user already has a placed purchase, then it is rejected as a duplicate', () => {
    expect(decidePurchase(sale(10, 0, ['user-a']), buy('a'))).toEqual({
      status: 'rejected',
      reason: 'duplicate_purchase',
    });
  });
});

describe('decidePurchases', () => {
  it('when purchases are decided in order, then each sees the effect of the ones before it', () => {
    const { decided, state } = decidePurchases(sale(3), [
      buy('a', 2),
      buy('b', 2),
      buy('c', 1),
      buy('d', 1, false),
    ]);
    expect(decided.map(({ purchase, decision }) => [purchase.id, decision])).toEqual([
      ['a', { status: 'confirmed' }],
      ['b', { status: 'waitlisted', waitlistPosition: 1 }],
      // c would fit in the one ticket left, but b is waiting: nobody overtakes.
      ['c', { status: 'waitlisted', waitlistPosition: 2 }],
      ['d', { status: 'rejected', reason: 'sold_out' }],
    ]);
    expect(state.availableTickets).toBe(1);
    expect(state.waitlistLength).toBe(2);
  });

  it('when the event holds, then held purchases take tickets from the ones after them like confirmed ones', () => {
    const { decided, state } = decidePurchases(sale(3, 0, [], true), [
      buy('a', 2),
      buy('b', 2),
      buy('a', 1, true, 'user-a'),
    ]);
    expect(decided.map(({ decision }) => decision)).toEqual([
      { status: 'held' },
      { status: 'waitlisted', waitlistPosition: 1 },
      { status: 'rejected', reason: 'duplicate_purchase' },
    ]);
    expect(state).toMatchObject({ availableTickets: 1, holds: true, waitlistLength: 1 });
  });

  it('when one user submits twice in a batch, then only the first counts', () => {
    const { decided } = decidePurchases(sale(10), [buy('a', 1, true, 'u'), buy('b', 1, true, 'u')]);
    expect(decided.map(({ decision }) => decision.status)).toEqual(['confirmed', 'rejected']);
  });

  it('when a user was rejected as sold out, then a later purchase of theirs is not a duplicate', () => {
    const { decided } = decidePurchases(sale(0), [buy('a', 1, false, 'u'), buy('b', 1, true, 'u')]);
    expect(decided.map(({ decision }) => decision.status)).toEqual(['rejected', 'waitlisted']);
  });

  it('when given the initial state, then it does not change it', () => {
    const initial = sale(1);
    decidePurchases(initial, [buy('a')]);
    expect(initial).toEqual(sale(1));
  });
});

describe('isDecided', () => {
  it('when a purchase is queued, then it is not decided; any decision decides it', () => {
    expect(isDecided('queued')).toBe(false);
    for (const status of ['confirmed', 'waitlisted', 'rejected', 'cancelled'] as const) {
      expect(isDecided(status)).toBe(true);
    }
  });
});
