import { describe, expect, it } from 'vitest';
import { useFaultSystem } from './support/fault-system.js';
import { sleep } from '@ticketing/harness';
import { probePurchase } from './support/probe.js';
import { runScenario } from './support/scenario.js';

const PURCHASES = 3_000;
const faultSystem = useFaultSystem({ workers: 2 });

const load = { purchases: PURCHASES, concurrency: 64, ratePerSecond: 400 };

describe('Redis loses everything', () => {
  it('when Redis is killed -9 mid-load and comes back empty, then the api answered 503 meanwhile and nothing accepted is lost', async () => {
    const system = faultSystem();
    let probe = { status: '', ms: 0 };
    const result = await runScenario(system, {
      name: 'kill -9 Redis (restarts empty)',
      events: 3,
      ticketsPerEvent: 500,
      load,
      faults: async (buyers) => {
        await buyers.reached(PURCHASES * 0.4);
        await system.redis.kill();
        await sleep(300);
        probe = await probePurchase(system.url, [...buyers.accepted.values()][0]?.eventId ?? '');
        await sleep(1_700);
        await system.redis.start();
        return `Redis down 2 s at 40% (a purchase meanwhile: ${probe.status} in ${probe.ms} ms)`;
      },
    });
    expect(probe.status).toBe('503 unavailable');
    expect(probe.ms).toBeLessThan(1_000);
    expect(result.violations).toEqual([]);
    expect(result.accepted).toBe(PURCHASES);
  });

  it('when Redis is flushed mid-load, then the reconciler and the Postgres scan bring every accepted purchase to a decision', async () => {
    const system = faultSystem();
    const result = await runScenario(system, {
      name: 'FLUSHALL Redis',
      events: 3,
      ticketsPerEvent: 500,
      load,
      faults: async (buyers) => {
        await buyers.reached(PURCHASES * 0.4);
        await system.redis.cli('flushall');
        await buyers.reached(PURCHASES * 0.7);
        await system.redis.cli('flushall');
        return 'every Redis key flushed at 40% and at 70% of the load';
      },
    });
    expect(result.violations).toEqual([]);
    expect(result.accepted).toBe(PURCHASES);
  });
});
