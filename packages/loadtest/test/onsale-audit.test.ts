import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { drawCommitment, drawKey, drawOrder, newDrawSeed } from '@ticketing/shared';
import {
  auditOnSale,
  meanPlaceZ,
  type ArrivalGroup,
  type OnSaleBooks,
  type OnSalePurchase,
} from '../src/onsale-audit.js';

const START = '2026-12-07T10:00:00.000Z';
const after = (ms: number) => new Date(Date.parse(START) + ms).toISOString();

/**
 * The books of an on-sale as a correct system leaves them: `arrivals` in arrival order (fast first,
 * then paced, then late), the pre-queue decided in `order` (by default the draw's), then the late ones.
 */
function onSale(
  options: {
    tickets?: number;
    order?: (entrants: OnSalePurchase[], seed: Buffer) => OnSalePurchase[];
    decidedAt?: (index: number) => string;
  } = {},
): OnSaleBooks {
  const seed = newDrawSeed();
  const tickets = options.tickets ?? 40;
  const arrivals: OnSalePurchase[] = [
    ...Array.from({ length: 30 }, () => 'fast' as ArrivalGroup),
    ...Array.from({ length: 30 }, () => 'paced' as ArrivalGroup),
    ...Array.from({ length: 10 }, () => 'late' as const),
  ].map((arrival) => ({ purchaseId: randomUUID(), quantity: 1, arrival, status: 'prequeued' }));
  const entrants = arrivals.filter((p) => p.arrival !== 'late');
  const byDraw = (list: OnSalePurchase[]) =>
    [...list].sort((a, b) => (drawKey(seed, a.purchaseId) < drawKey(seed, b.purchaseId) ? -1 : 1));
  const decided = [
    ...(options.order ?? byDraw)(entrants, seed),
    ...arrivals.filter((p) => p.arrival === 'late'),
  ].map((purchase, index) => ({
    ...purchase,
    status: index < tickets ? 'confirmed' : 'waitlisted',
    ...(index >= tickets ? { waitlistPosition: index - tickets + 1 } : {}),
    processedAt: (options.decidedAt ?? ((i) => after(5 + Math.floor(i / 25))))(index),
  }));
  return {
    eventId: 'e',
    totalTickets: tickets,
    salesStartAt: START,
    draw: {
      commitmentBefore: drawCommitment(seed),
      commitment: drawCommitment(seed),
      seed: seed.toString('hex'),
      entrants: entrants.length,
      keys: drawOrder(entrants.map((p) => drawKey(seed, p.purchaseId))),
    },
    purchases: decided,
  };
}

describe('the on-sale audit of a load run', () => {
  it('when the pre-queue was decided in the draw’s order after the start, then it is clean', () => {
    const { violations, figures } = auditOnSale(onSale());
    expect(violations).toEqual([]);
    expect(figures).toMatchObject({ entrants: 60, late: 10, firstDecisionMs: 5 });
    expect(figures.fast.count).toBe(30);
  });

  it('when the pre-queue was decided in arrival order, then the order and the fast buyers’ places are reported', () => {
    const { violations, figures } = auditOnSale(onSale({ order: (entrants) => entrants }));
    expect(violations.some((v) => v.includes("not decided in the draw's order"))).toBe(true);
    expect(figures.fastZ).toBeLessThan(-3.09);
    expect(violations.some((v) => v.includes('better than a fair draw allows'))).toBe(true);
  });

  it('when anything was decided before the start, then it is reported', () => {
    const { violations } = auditOnSale(onSale({ decidedAt: (i) => after(i === 0 ? -1 : 5) }));
    expect(violations.some((v) => v.includes('1 purchases decided before the sale start'))).toBe(true);
  });

  it('when a later arrival went ahead of the pre-queue, then it is reported', () => {
    const books = onSale({ tickets: 70 });
    const purchases = books.purchases.map((p) =>
      p.arrival === 'late' ? { ...p, processedAt: after(1) } : p,
    );
    expect(auditOnSale({ ...books, purchases }).violations).toEqual([
      'event e: 10 purchases made after the start went ahead of the pre-queue',
    ]);
  });

  it('when the seed does not match the commitment seen before, or the commitment changed, then it is reported', () => {
    const books = onSale();
    const other = drawCommitment(newDrawSeed());
    expect(auditOnSale({ ...books, draw: { ...books.draw, commitmentBefore: other } }).violations).toEqual([
      `event e: the commitment changed from ${other} to ${books.draw.commitment}`,
      'event e: SHA-256 of the revealed seed is not the commitment published before the start',
    ]);
  });

  it('when the draw is not revealed, or misses an entrant, then it is reported', () => {
    const books = onSale();
    const { seed: _seed, ...unrevealed } = books.draw;
    expect(auditOnSale({ ...books, draw: unrevealed }).violations).toContain(
      'event e: the draw was not revealed after the start',
    );
    const keys = books.draw.keys!.slice(1);
    const violations = auditOnSale({ ...books, draw: { ...books.draw, keys, entrants: 59 } }).violations;
    expect(violations).toContain('event e: 1 pre-queued purchases are not in the draw');
  });

  it('when the mean of m of the places 1..E is computed, then its z-score is 0 in the middle and large at the ends', () => {
    expect(meanPlaceZ([1, 2, 3, 4], 8)).toBeLessThan(-2);
    expect(meanPlaceZ([1, 8], 8)).toBe(0);
    expect(meanPlaceZ([], 8)).toBe(0);
  });
});
