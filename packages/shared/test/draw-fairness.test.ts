import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareDrawKeys, drawKey, onSaleOrder } from '../src/domain/draw.js';

/**
 * The draw's fairness, measured: the same pre-queue drawn under many seeds. Seeds and purchase ids
 * come from SHA-256 of a counter, so every run computes the same statistics and the assertions are
 * deterministic; the thresholds are chi-square critical values at a fixed significance level, so what
 * a pass means is stated, not tuned to the data.
 */
const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

/** A v4-shaped UUID made from a counter (the draw only ever sees the id's text). */
function purchaseId(n: number): string {
  const h = sha256(`purchase-${n}`).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const ENTRANTS = 10;
const SEEDS = 20_000;
/** Significance level of every test below: a fair draw fails one with probability 0.001. */
const ALPHA = 0.001;
/**
 * Chi-square critical values at ALPHA = 0.001 (upper tail), from the chi-square quantile function
 * (scipy.stats.chi2.ppf(0.999, df)): df = 9 for one buyer's ten places or one place's ten buyers,
 * df = 81 = (10 − 1)² for the whole buyer × place table, whose row and column sums are fixed.
 */
const CRITICAL_DF9 = 27.877;
const CRITICAL_DF81 = 126.083;

/** Purchase ids in arrival order: index 0 came first. */
const entrants = Array.from({ length: ENTRANTS }, (_, i) => purchaseId(i));
const seeds = Array.from({ length: SEEDS }, (_, i) => sha256(`seed-${i}`));

/** counts[arrival][place - 1]: how often the buyer who arrived in that position drew that place. */
function placeCounts(order: (seed: Buffer, ids: readonly string[]) => readonly string[]): number[][] {
  const counts = entrants.map(() => new Array<number>(ENTRANTS).fill(0));
  const arrival = new Map(entrants.map((id, i) => [id, i]));
  for (const seed of seeds)
    order(seed, entrants).forEach((id, place) => {
      counts[arrival.get(id)!]![place]!++;
    });
  return counts;
}

/** The order the rounds decide a pre-queue in (onSaleOrder), `ids` numbered in arrival order. */
const drawn = (seed: Buffer, ids: readonly string[]): string[] =>
  onSaleOrder(ids.map((id, seq) => ({ id, seq, drawKey: drawKey(seed, id) }))).map((e) => e.id);

/** A plausible bug, as a control: comparing only the key's first hex digit, ties kept in arrival order. */
const prefixOnly = (seed: Buffer, ids: readonly string[]): string[] =>
  ids
    .map((id, arrival) => ({ id, arrival, key: drawKey(seed, id).slice(0, 1) }))
    .sort((a, b) => compareDrawKeys(a.key, b.key) || a.arrival - b.arrival)
    .map((e) => e.id);

const chiSquare = (observed: readonly number[], expected: number): number =>
  observed.reduce((sum, o) => sum + (o - expected) ** 2 / expected, 0);

const column = (counts: number[][], place: number): number[] => counts.map((row) => row[place]!);

describe('the fairness of the draw', () => {
  const expected = SEEDS / ENTRANTS;
  const counts = placeCounts(drawn);

  it(`when one pre-queue is drawn under ${SEEDS} seeds, then each buyer's place is uniform (chi-square, α = ${ALPHA})`, () => {
    const perBuyer = counts.map((row) => chiSquare(row, expected));
    for (const statistic of perBuyer) expect(statistic).toBeLessThan(CRITICAL_DF9);
  });

  it(`when one pre-queue is drawn under ${SEEDS} seeds, then each place goes to every buyer alike (chi-square, α = ${ALPHA})`, () => {
    const perPlace = entrants.map((_, place) => chiSquare(column(counts, place), expected));
    for (const statistic of perPlace) expect(statistic).toBeLessThan(CRITICAL_DF9);
    expect(chiSquare(counts.flat(), expected)).toBeLessThan(CRITICAL_DF81);
  });

  it('when the draw compares only a prefix of the key and breaks ties by arrival, then the same test reports it', () => {
    // The control shows the test can fail: early arrivals win the ties and crowd the first places.
    const biased = placeCounts(prefixOnly);
    expect(chiSquare(biased[0]!, expected)).toBeGreaterThan(CRITICAL_DF9);
    expect(chiSquare(column(biased, 0), expected)).toBeGreaterThan(CRITICAL_DF9);
    expect(chiSquare(biased.flat(), expected)).toBeGreaterThan(CRITICAL_DF81);
  });

  it("when the same buyers arrive in any order, then every buyer's place is the same", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.shuffledSubarray(entrants, { minLength: ENTRANTS, maxLength: ENTRANTS }),
        (seed, arrival) => {
          const seedBuffer = Buffer.from(seed);
          expect(drawn(seedBuffer, arrival)).toEqual(drawn(seedBuffer, entrants));
        },
      ),
    );
  });

  it('when the first and the last to arrive are compared over all seeds, then neither places better on average', () => {
    // The mean place of one buyer over SEEDS fair draws is ((N + 1) / 2) with standard deviation
    // sqrt((N² − 1) / 12 / SEEDS); |z| < 3.29 is the two-sided test at α = 0.001.
    const meanPlace = (row: number[]) => row.reduce((s, n, place) => s + n * (place + 1), 0) / SEEDS;
    const sd = Math.sqrt((ENTRANTS ** 2 - 1) / 12 / SEEDS);
    for (const row of [counts[0]!, counts[ENTRANTS - 1]!])
      expect(Math.abs((meanPlace(row) - (ENTRANTS + 1) / 2) / sd)).toBeLessThan(3.29);
  });
});
