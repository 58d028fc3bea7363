import { describe, expect, it } from 'vitest';
import { sleep, waitFor } from '@ticketing/harness';
import { drawCommitment } from '@ticketing/shared';
import { useFaultSystem, type FaultSystem } from './support/fault-system.js';
import type { Buyers } from '../src/buyers.js';
import { runScenario } from './support/scenario.js';

/**
 * The on-sale moment under faults (docs/on-sale.md). Buyers arrive at a steady pace from the events'
 * creation, so about 60% of them pre-queue and the rest come after the start; the books audit then
 * checks, besides the usual, that nothing was decided before the start, that there was one draw (the
 * committed seed, every key its HMAC), and that the pre-queue was decided in the draw's order ahead
 * of every later arrival (who got the tickets and the waiting list's order follow that line).
 */
const PURCHASES = 3_000;
const START_IN_MS = 6_000;
const load = { purchases: PURCHASES, concurrency: 64, ratePerSecond: 300 };
const WORKERS = 3;
const faultSystem = useFaultSystem({ workers: WORKERS });

const sleepUntil = (at: number) => sleep(Math.max(0, at - Date.now()));

/**
 * Kills -9 the oldest worker alive and not already being killed, and starts another in its place. The
 * moments are fixed and a kill and restart take a second here, so kills overlap instead of waiting for
 * each other; with three workers the oldest has always been draining a while.
 */
const victims = new Set<unknown>();
async function killOldestWorker(system: FaultSystem, killedAt: number[]): Promise<void> {
  const victim = system.workers.find((worker) => worker.running && !victims.has(worker));
  if (victim === undefined) throw new Error('no worker alive to kill');
  victims.add(victim);
  killedAt.push(Date.now());
  victim.signal('SIGKILL');
  await victim.exited;
  await system.replaceWorker(victim);
}

/** Each event's draw as the public route shows it. */
async function draws(system: FaultSystem, buyers: Buyers) {
  const eventIds = [...new Set([...buyers.accepted.values()].map((accepted) => accepted.eventId))];
  return new Map(
    await Promise.all(
      eventIds.map(async (id) => {
        const response = await fetch(`${system.url}/events/${id}/draw`);
        const draw = (await response.json()) as { commitment: string; seed?: string; entrants?: number };
        return [id, draw] as const;
      }),
    ),
  );
}

describe('the on-sale moment under faults', () => {
  it('when workers are killed -9 just before, at and after the sale start, then there is one draw, the committed one, nothing is decided early or lost, and the pre-queue goes first in drawn order', async () => {
    const system = faultSystem();
    const killedAt: number[] = [];
    let before = new Map<string, { commitment: string; seed?: string }>();
    let buyersSeen: Buyers | undefined;
    // The start is 6 s after the events are made: every worker must be draining by then.
    await waitFor(
      'every worker draining',
      async () => (await system.startedWorkers()).length === WORKERS,
      60_000,
    );
    const result = await runScenario(system, {
      name: 'on-sale: kill -9 a worker 1 s before, at, 0.3 s and 1.5 s after the sale start',
      events: 3,
      ticketsPerEvent: 500,
      saleStartInMs: START_IN_MS,
      load,
      faults: async (buyers, startAt) => {
        buyersSeen = buyers;
        await sleepUntil(startAt - 4_000);
        before = await draws(system, buyers);
        await Promise.all(
          [-1_000, 0, 300, 1_500].map(async (offset) => {
            await sleepUntil(startAt + offset);
            await killOldestWorker(system, killedAt);
          }),
        );
        const killed = killedAt.map(
          (at) => `${at < startAt ? '' : '+'}${((at - startAt) / 1000).toFixed(1)} s`,
        );
        return `${WORKERS} workers; one killed -9 at ${killed.join(', ')} from the start (${START_IN_MS / 1000} s after creation)`;
      },
    });
    expect(killedAt).toHaveLength(4);
    expect(result.violations).toEqual([]);
    expect(result.accepted).toBe(PURCHASES);
    // The seed revealed after the start is the one committed to before it, for every event.
    const after = await draws(system, buyersSeen!);
    expect(before.size).toBe(3);
    for (const [id, draw] of before) {
      expect(draw.seed, 'no seed before the start').toBeUndefined();
      const revealed = after.get(id)!;
      expect(revealed.commitment).toBe(draw.commitment);
      expect(drawCommitment(Buffer.from(revealed.seed ?? '', 'hex'))).toBe(draw.commitment);
      expect(revealed.entrants).toBeGreaterThan(0);
    }
  });

  it('when Redis is flushed twice during the pre-queue, then every pre-queued purchase is still in the draw and decided in its order after the start', async () => {
    const system = faultSystem();
    const result = await runScenario(system, {
      name: 'on-sale: FLUSHALL Redis 3 s and 1 s before the start',
      events: 3,
      ticketsPerEvent: 500,
      saleStartInMs: START_IN_MS,
      load,
      faults: async (_buyers, startAt) => {
        await sleepUntil(startAt - 3_000);
        await system.redis.cli('flushall');
        await sleepUntil(startAt - 1_000);
        await system.redis.cli('flushall');
        return 'every Redis key flushed 3 s and 1 s before the start, while buyers pre-queue';
      },
    });
    expect(result.violations).toEqual([]);
    expect(result.accepted).toBe(PURCHASES);
  });
});
