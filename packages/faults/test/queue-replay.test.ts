import { describe, expect, it } from 'vitest';
import { replayQueue, type ReplayPurchase } from '../src/queue-replay.js';

/** A purchase of one ticket as the books show it: `got` tickets, or the status it ended in. */
function purchase(
  seq: number,
  ended: 'ticket' | 'waitlisted' | 'rejected',
  extra: Partial<ReplayPurchase> = {},
) {
  return {
    id: `p${seq}`,
    seq,
    drawKey: null,
    quantity: 1,
    joinWaitlist: true,
    status: ended === 'ticket' ? 'confirmed' : ended,
    reason: ended === 'rejected' ? 'sold_out' : null,
    cancelSeq: null,
    expireSeq: null,
    gotTickets: ended === 'ticket',
    ...extra,
  } satisfies ReplayPurchase;
}

const noWait = { joinWaitlist: false };

describe('the replay of a queue with resizes and a close', () => {
  it('when every purchase numbered before a resize was decided on the old total and every one after on the new, then nothing differs', () => {
    const replay = replayQueue({
      initialTotal: 2,
      closeSeq: null,
      resizes: [{ seq: 4, totalTickets: 3, appliedTotal: 3 }],
      purchases: [
        purchase(1, 'ticket', noWait),
        purchase(2, 'ticket', noWait),
        purchase(3, 'rejected', noWait),
        purchase(5, 'ticket', noWait),
        purchase(6, 'rejected', noWait),
      ],
    });
    expect(replay).toEqual({ mismatches: [], resizeFaults: [], afterClose: 0 });
  });

  it('when a purchase numbered before a growing resize got one of its tickets, then it was decided on the wrong size', () => {
    const replay = replayQueue({
      initialTotal: 2,
      closeSeq: null,
      resizes: [{ seq: 4, totalTickets: 3, appliedTotal: 3 }],
      purchases: [
        purchase(1, 'ticket', noWait),
        purchase(2, 'ticket', noWait),
        purchase(3, 'ticket', noWait),
        purchase(5, 'rejected', noWait),
      ],
    });
    expect(replay.mismatches[0]).toEqual({
      seq: 3,
      place: 3,
      is: 'ticket',
      replayed: 'rejected',
      totalAtTurn: 2,
    });
  });

  it('when a shrinking resize comes after purchases took more than it leaves, then it must stop at what is taken, and those before it keep the old total', () => {
    const books = (appliedTotal: number, third: 'ticket' | 'waitlisted') => ({
      initialTotal: 4,
      closeSeq: null,
      resizes: [{ seq: 4, totalTickets: 2, appliedTotal }],
      purchases: [
        purchase(1, 'ticket'),
        purchase(2, 'ticket'),
        purchase(3, third),
        purchase(5, 'waitlisted'),
      ],
    });
    expect(replayQueue(books(3, 'ticket'))).toEqual({ mismatches: [], resizeFaults: [], afterClose: 0 });
    // Applied at once, before purchase 3's turn: it waits, and the resize records the smaller total.
    const atOnce = replayQueue(books(2, 'waitlisted'));
    expect(atOnce.mismatches).toEqual([
      { seq: 3, place: 3, is: 'waiting', replayed: 'ticket', totalAtTurn: 4 },
    ]);
    expect(atOnce.resizeFaults).toEqual([
      'the resize numbered 4 (to 2) gave 2 tickets; its turn found 3 taken, so 3',
    ]);
  });

  it('when tickets grow or come back, then the head of the line gets them first; at the close the line is rejected and later returns stay free', () => {
    const replay = replayQueue({
      initialTotal: 1,
      closeSeq: 8,
      resizes: [{ seq: 4, totalTickets: 2, appliedTotal: 2 }],
      purchases: [
        purchase(1, 'ticket', { status: 'cancelled', cancelSeq: 9 }),
        purchase(2, 'ticket'),
        purchase(3, 'rejected', { reason: 'sale_ended' }),
        purchase(5, 'rejected', { reason: 'sale_ended' }),
        purchase(6, 'rejected', noWait),
      ],
    });
    expect(replay).toEqual({ mismatches: [], resizeFaults: [], afterClose: 0 });
  });

  it('when the pre-queue is drawn, then it comes first in key order; a pending resize and a purchase after the close are reported', () => {
    const replay = replayQueue({
      initialTotal: 1,
      closeSeq: 5,
      resizes: [{ seq: 4, totalTickets: 5, appliedTotal: null }],
      purchases: [
        purchase(1, 'waitlisted', { drawKey: 'bb', status: 'rejected', reason: 'sale_ended' }),
        purchase(2, 'ticket', { drawKey: 'aa' }),
        purchase(3, 'rejected', { reason: 'sale_ended' }),
        purchase(6, 'rejected', noWait),
      ],
    });
    expect(replay.mismatches).toEqual([]);
    expect(replay.resizeFaults).toEqual(['the resize numbered 4 (to 5) was never carried out']);
    expect(replay.afterClose).toBe(1);
  });
});
