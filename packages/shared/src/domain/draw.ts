/**
 * The on-sale draw, a commit-reveal scheme any buyer can check (docs/on-sale.md):
 * - an event with a sale start gets a secret 32-byte seed; its `commitment`, hex SHA-256 of the seed,
 *   is public from the moment the pre-queue can open and never changes;
 * - every pre-queued purchase's draw key is hex HMAC-SHA256(key = the seed's bytes, message = the
 *   purchase id as lower-case UUID text);
 * - at the start the seed is revealed, and the pre-queue is decided in ascending draw key.
 * The key depends only on the seed and the purchase id, so there is exactly one draw however often it
 * is computed, and a buyer checks their place without learning anyone else's purchase id.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const DRAW_SEED_BYTES = 32;

/** A new secret seed. Randomness is an input like any other: this is the one impure helper here. */
export const newDrawSeed = (): Buffer => randomBytes(DRAW_SEED_BYTES);

export const drawCommitment = (seed: Uint8Array): string => createHash('sha256').update(seed).digest('hex');

export const drawKey = (seed: Uint8Array, purchaseId: string): string =>
  createHmac('sha256', seed).update(purchaseId.toLowerCase()).digest('hex');

/** Drawn order: ascending draw key (hex of equal length, so text order is numeric order). */
export const compareDrawKeys = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export const drawOrder = (keys: readonly string[]): string[] => [...keys].sort(compareDrawKeys);

export type DrawCheck =
  | { readonly ok: true; readonly place: number; readonly entrants: number }
  | { readonly ok: false; readonly reason: string };

/**
 * What a buyer checks once the seed is revealed: the seed matches the commitment published before the
 * start, the published keys are in drawn order, and their own key is among them (its 1-based place).
 */
export function checkDraw(input: {
  readonly commitment: string;
  readonly seedHex: string;
  readonly keys: readonly string[];
  readonly purchaseId: string;
}): DrawCheck {
  if (!/^[0-9a-f]{64}$/.test(input.seedHex))
    return { ok: false, reason: 'the seed is not 64 hex characters' };
  const seed = Buffer.from(input.seedHex, 'hex');
  const expected = Buffer.from(drawCommitment(seed), 'hex');
  const published = Buffer.from(input.commitment, 'hex');
  if (published.length !== expected.length || !timingSafeEqual(published, expected))
    return { ok: false, reason: 'SHA-256 of the seed does not match the commitment' };
  for (let i = 1; i < input.keys.length; i++)
    if (compareDrawKeys(input.keys[i - 1]!, input.keys[i]!) >= 0)
      return { ok: false, reason: `the keys are not in ascending order at place ${i + 1}` };
  const mine = drawKey(seed, input.purchaseId);
  const index = input.keys.indexOf(mine);
  if (index < 0) return { ok: false, reason: 'this purchase is not among the entrants' };
  return { ok: true, place: index + 1, entrants: input.keys.length };
}

/** A purchase as the on-sale orders it: its arrival number, and its draw key if it was pre-queued. */
export interface OrderedPurchase {
  readonly id: string;
  readonly seq: number;
  /** Set for an entrant of the draw (pre-queued at the start); null for a purchase after the start. */
  readonly drawKey: string | null;
}

/**
 * The order an event's purchases are decided in: every entrant of the draw in ascending key, then the
 * purchases submitted after the start in arrival order. The worker's rounds follow it (the pre-queue
 * by key from a cursor, then the queue by `seq`); the audits check it.
 */
export function onSaleOrder<P extends OrderedPurchase>(purchases: readonly P[]): P[] {
  return [...purchases].sort((a, b) => {
    if (a.drawKey !== null && b.drawKey !== null) return compareDrawKeys(a.drawKey, b.drawKey);
    if (a.drawKey !== null) return -1;
    if (b.drawKey !== null) return 1;
    return a.seq - b.seq;
  });
}

/** How many of the ascending `keys` are at or below `key` (all of them up to and including it). */
function countAtOrBelow(keys: readonly string[], key: string): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (compareDrawKeys(keys[mid]!, key) <= 0) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** How many of the ascending `keys` are below `key`. */
function countBelow(keys: readonly string[], key: string): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (compareDrawKeys(keys[mid]!, key) < 0) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * Entrants of a draw still undecided, given its published keys (ascending) and the event's cursor, the
 * last key decided (null: none yet). The pre-queue is decided exactly in key order, so they are the
 * keys after the cursor: a binary search, however big the pre-queue.
 */
export const entrantsUndecided = (keys: readonly string[], cursor: string | null): number =>
  keys.length - (cursor === null ? 0 : countAtOrBelow(keys, cursor));

/**
 * Entrants still undecided ahead of the entrant with `key`: the keys in (cursor, key). Undefined when
 * the cursor is at or past `key` (the entrant is decided already; its row was read before that).
 */
export function entrantsAhead(
  keys: readonly string[],
  cursor: string | null,
  key: string,
): number | undefined {
  if (cursor !== null && compareDrawKeys(cursor, key) >= 0) return undefined;
  return countBelow(keys, key) - (cursor === null ? 0 : countAtOrBelow(keys, cursor));
}
