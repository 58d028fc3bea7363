import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  checkDraw,
  drawCommitment,
  drawKey,
  drawOrder,
  entrantsAhead,
  entrantsUndecided,
  newDrawSeed,
} from '../src/domain/draw.js';
import { checkSaleWindow, saleWindowState } from '../src/domain/sale-window.js';

const at = (s: string) => new Date(`2026-12-07T${s}Z`);

describe('the draw', () => {
  const seed = Buffer.from('00'.repeat(31) + '01', 'hex');
  const ids = ['0b6a3b76-54f5-4f4e-9d55-5b1ad3c29c1f', '6f1c1b4e-7a5e-4d8c-8a0e-3b8c2f1d9e10'];

  it('when a key is computed, then it is HMAC-SHA256 of the lower-case id under the seed, the same for any case', () => {
    expect(drawKey(seed, ids[0]!)).toMatch(/^[0-9a-f]{64}$/);
    expect(drawKey(seed, ids[0]!.toUpperCase())).toBe(drawKey(seed, ids[0]!));
    expect(drawKey(newDrawSeed(), ids[0]!)).not.toBe(drawKey(seed, ids[0]!));
  });

  it('when a buyer checks a revealed draw, then they find their place; a wrong seed or a missing key fails', () => {
    const keys = drawOrder(ids.map((id) => drawKey(seed, id)));
    const commitment = drawCommitment(seed);
    const seedHex = seed.toString('hex');
    const place = keys.indexOf(drawKey(seed, ids[1]!)) + 1;
    expect(checkDraw({ commitment, seedHex, keys, purchaseId: ids[1]! })).toEqual({
      ok: true,
      place,
      entrants: 2,
    });
    expect(checkDraw({ commitment, seedHex: 'ff'.repeat(32), keys, purchaseId: ids[1]! }).ok).toBe(false);
    expect(checkDraw({ commitment, seedHex, keys: [...keys].reverse(), purchaseId: ids[1]! }).ok).toBe(false);
    expect(checkDraw({ commitment, seedHex, keys: keys.slice(0, 0), purchaseId: ids[1]! }).ok).toBe(false);
  });
});

describe('positions in a draw', () => {
  const hexKey = fc.stringMatching(/^[0-9a-f]{64}$/);

  it('when part of the draw is decided, then an entrant has exactly the undecided keys below its own ahead', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(hexKey, { minLength: 1, maxLength: 60 }),
        fc.nat(),
        fc.nat(),
        (drawn, decidedCount, pick) => {
          const keys = drawOrder(drawn);
          const decided = decidedCount % (keys.length + 1);
          const cursor = decided === 0 ? null : keys[decided - 1]!;
          const undecided = keys.slice(decided);
          expect(entrantsUndecided(keys, cursor)).toBe(undecided.length);
          const mine = keys[pick % keys.length]!;
          const ahead = entrantsAhead(keys, cursor, mine);
          if (keys.indexOf(mine) < decided) expect(ahead).toBeUndefined();
          else expect(ahead).toBe(undecided.filter((key) => key < mine).length);
        },
      ),
    );
  });

  it('when nothing is decided, then the first entrant has none ahead and the last all the others', () => {
    const keys = ['1'.repeat(64), '5'.repeat(64), 'a'.repeat(64)];
    expect(entrantsAhead(keys, null, keys[0]!)).toBe(0);
    expect(entrantsAhead(keys, null, keys[2]!)).toBe(2);
    expect(entrantsAhead(keys, keys[0]!, keys[2]!)).toBe(1);
    expect(entrantsUndecided(keys, keys[2]!)).toBe(0);
    expect(entrantsUndecided([], null)).toBe(0);
  });
});

describe('the sale window', () => {
  const window = {
    preQueueOpensAt: at('09:00:00'),
    salesStartAt: at('10:00:00'),
    salesEndAt: at('12:00:00'),
  };

  it('when time passes, then the state goes scheduled, prequeue, on_sale, ended at the exact instants', () => {
    expect(saleWindowState(window, at('08:59:59'))).toBe('scheduled');
    expect(saleWindowState(window, at('09:00:00'))).toBe('prequeue');
    expect(saleWindowState(window, at('09:59:59'))).toBe('prequeue');
    expect(saleWindowState(window, at('10:00:00'))).toBe('on_sale');
    expect(saleWindowState(window, at('12:00:00'))).toBe('ended');
  });

  it('when an event has no start, then it is on sale from creation, and with no opening its pre-queue is open', () => {
    const none = { preQueueOpensAt: null, salesStartAt: null, salesEndAt: null };
    expect(saleWindowState(none, at('00:00:00'))).toBe('on_sale');
    expect(saleWindowState({ ...window, preQueueOpensAt: null }, at('00:00:00'))).toBe('prequeue');
  });

  it('when the window is inconsistent, then the problem names the field', () => {
    expect(checkSaleWindow(window)).toBeNull();
    expect(checkSaleWindow({ ...window, salesEndAt: at('10:00:00') })?.field).toBe('salesEndAt');
    expect(checkSaleWindow({ ...window, preQueueOpensAt: at('10:00:01') })?.field).toBe('preQueueOpensAt');
    expect(checkSaleWindow({ ...window, salesStartAt: null })?.field).toBe('preQueueOpensAt');
  });
});
