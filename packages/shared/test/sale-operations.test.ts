import { describe, expect, it } from 'vitest';
import {
  SALE_STATES,
  checkResize,
  checkSaleOperation,
  freedTickets,
  resizedTotal,
  saleState,
  type SaleOperation,
  type SaleOperationRefusalCode,
} from '../src/domain/sale-operations.js';

const now = new Date('2026-12-08T12:00:00Z');
const minutes = (n: number) => new Date(now.getTime() + n * 60_000);

/** An event in each state by its window and controls, at `now`. */
const EVENTS = {
  scheduled: { salesStartAt: minutes(60), salesEndAt: null, preQueueOpensAt: minutes(30) },
  prequeue: { salesStartAt: minutes(60), salesEndAt: null, preQueueOpensAt: null },
  on_sale: { salesStartAt: null, salesEndAt: minutes(60), preQueueOpensAt: null },
  ended: { salesStartAt: null, salesEndAt: minutes(-1), preQueueOpensAt: null },
} as const;
const control = (paused: boolean, cancelled: boolean) => ({
  pausedAt: paused ? minutes(-5) : null,
  cancelledAt: cancelled ? minutes(-2) : null,
});

describe('saleState', () => {
  it('when an event is cancelled, then it is cancelled whatever its window and pause say', () => {
    for (const window of Object.values(EVENTS))
      for (const paused of [false, true])
        expect(saleState({ ...window, ...control(paused, true) }, now)).toBe('cancelled');
  });

  it('when an event has ended, then it is ended even if it was paused', () => {
    for (const paused of [false, true])
      expect(saleState({ ...EVENTS.ended, ...control(paused, false) }, now)).toBe('ended');
  });

  it("when an event is paused before its end, then the pause shows over the window's state", () => {
    for (const window of [EVENTS.scheduled, EVENTS.prequeue, EVENTS.on_sale]) {
      expect(saleState({ ...window, ...control(true, false) }, now)).toBe('paused');
    }
    for (const state of ['scheduled', 'prequeue', 'on_sale'] as const)
      expect(saleState({ ...EVENTS[state], ...control(false, false) }, now)).toBe(state);
  });

  it('when every combination is judged, then each of the six states is reached', () => {
    const reached = new Set<string>();
    for (const window of Object.values(EVENTS))
      for (const paused of [false, true])
        for (const cancelled of [false, true])
          reached.add(saleState({ ...window, ...control(paused, cancelled) }, now));
    expect([...reached].sort()).toEqual([...SALE_STATES].sort());
  });
});

/** docs/running-a-sale.md's table: what each operation does in each state. */
type Outcome = 'apply' | 'repeat' | SaleOperationRefusalCode;
const RUNNING: Record<SaleOperation, Outcome> = {
  pause: 'apply',
  resume: 'repeat',
  close: 'apply',
  cancel: 'apply',
  edit: 'apply',
  resize: 'apply',
  reschedule: 'apply',
};
const TABLE: Record<
  'running' | 'paused' | 'ended' | 'ended_paused' | 'cancelled',
  Record<SaleOperation, Outcome>
> = {
  running: RUNNING,
  paused: { ...RUNNING, pause: 'repeat', resume: 'apply' },
  ended: { ...RUNNING, pause: 'sale_ended', close: 'repeat', resize: 'sale_ended', reschedule: 'sale_ended' },
  // An event that ended while paused can still be resumed: its remaining decisions wait for it.
  ended_paused: {
    ...RUNNING,
    pause: 'sale_ended',
    resume: 'apply',
    close: 'repeat',
    resize: 'sale_ended',
    reschedule: 'sale_ended',
  },
  cancelled: {
    pause: 'event_cancelled',
    resume: 'event_cancelled',
    close: 'event_cancelled',
    cancel: 'repeat',
    edit: 'event_cancelled',
    resize: 'event_cancelled',
    reschedule: 'event_cancelled',
  },
};

const outcome = (verdict: ReturnType<typeof checkSaleOperation>): Outcome =>
  verdict.kind === 'refused' ? verdict.code : verdict.kind;

describe('checkSaleOperation', () => {
  const cases = {
    running: [EVENTS.scheduled, EVENTS.prequeue, EVENTS.on_sale].map((window) => ({
      ...window,
      ...control(false, false),
    })),
    paused: [EVENTS.scheduled, EVENTS.prequeue, EVENTS.on_sale].map((window) => ({
      ...window,
      ...control(true, false),
    })),
    ended: [{ ...EVENTS.ended, ...control(false, false) }],
    ended_paused: [{ ...EVENTS.ended, ...control(true, false) }],
    cancelled: Object.values(EVENTS).map((window) => ({ ...window, ...control(false, true) })),
  };

  for (const [state, events] of Object.entries(cases) as [keyof typeof TABLE, (typeof cases)['running']][]) {
    it(`when the sale is ${state}, then each operation does what the table says`, () => {
      for (const event of events)
        for (const [operation, expected] of Object.entries(TABLE[state]) as [SaleOperation, Outcome][])
          expect(outcome(checkSaleOperation(event, now, operation)), `${state} ${operation}`).toBe(expected);
    });
  }

  it('when an operation is refused, then it says why for people', () => {
    const verdict = checkSaleOperation({ ...EVENTS.ended, ...control(false, false) }, now, 'resize');
    expect(verdict).toEqual({
      kind: 'refused',
      code: 'sale_ended',
      message: 'The sale has ended: its tickets and its end can no longer change',
    });
  });
});

describe('checkResize and resizedTotal', () => {
  const taken = { soldTickets: 6, heldTickets: 3 };

  it('when the new total is at least sold + held, then it is allowed; below, refused with the minimum', () => {
    expect(checkResize(taken, 9)).toBeUndefined();
    expect(checkResize(taken, 100)).toBeUndefined();
    expect(checkResize(taken, 8)).toEqual({
      code: 'below_sold_and_held',
      message: 'totalTickets cannot be below the 9 tickets sold or held',
    });
    expect(checkResize({ soldTickets: 0, heldTickets: 0 }, 1)).toBeUndefined();
  });

  it('when the resize comes up, then it gives the total asked for, or sold + held if purchases before it took more', () => {
    expect(resizedTotal(taken, 20)).toBe(20);
    expect(resizedTotal(taken, 9)).toBe(9);
    // Asked for 5 when 5 were taken; purchases numbered before it took 4 more meanwhile.
    expect(resizedTotal(taken, 5)).toBe(9);
  });

  it('when every total from 1 to 30 is asked, then the result never takes a ticket away and is what was asked when allowed', () => {
    for (let total = 1; total <= 30; total += 1) {
      const result = resizedTotal(taken, total);
      expect(result).toBeGreaterThanOrEqual(taken.soldTickets + taken.heldTickets);
      if (checkResize(taken, total) === undefined) expect(result).toBe(total);
    }
  });
});

describe('freedTickets', () => {
  it('when tickets come back, then a running sale promotes, a paused one waits for the resume, a closed one keeps them', () => {
    expect(freedTickets({ pausedAt: null, closedAt: null })).toBe('promote');
    expect(freedTickets({ pausedAt: now, closedAt: null })).toBe('promote_at_resume');
    expect(freedTickets({ pausedAt: null, closedAt: now })).toBe('keep');
    expect(freedTickets({ pausedAt: now, closedAt: now })).toBe('keep');
  });
});
