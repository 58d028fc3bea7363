import { describe, expect, it } from 'vitest';
import { useFaultSystem } from './support/fault-system.js';
import { sleep } from '@ticketing/harness';
import { runScenario } from './support/scenario.js';

const PURCHASES = 4_000;
const faultSystem = useFaultSystem({ workers: 2 });

describe('api crashes', () => {
  it('when the api is killed -9 mid-load and clients retry with their Idempotency-Key, then each purchase exists once and none is lost', async () => {
    const system = faultSystem();
    let kills = 0;
    const result = await runScenario(system, {
      name: 'kill -9 the api ×2',
      events: 4,
      ticketsPerEvent: 500,
      load: { purchases: PURCHASES, concurrency: 64, ratePerSecond: 400 },
      faults: async (buyers) => {
        for (const share of [0.25, 0.6]) {
          await buyers.reached(PURCHASES * share);
          system.api.signal('SIGKILL');
          await system.api.exited;
          kills += 1;
          await sleep(500);
          await system.startApi();
        }
        return `api killed -9 at 25% and 60% of the load, restarted`;
      },
    });
    expect(kills).toBe(2);
    expect(result.violations).toEqual([]);
    expect(result.accepted).toBe(PURCHASES);
  });
});
