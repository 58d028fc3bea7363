import { describe, expect, it } from 'vitest';
import { killAndReplaceWorker, useFaultSystem } from './support/fault-system.js';
import { sleep } from '@ticketing/harness';
import { randomBetween, runScenario } from './support/scenario.js';

const KILLS = 20;
const faultSystem = useFaultSystem({ workers: 2 });

describe('worker crashes', () => {
  it('when a worker is killed -9 twenty times during 10,000 purchases over 5 events, then nothing is lost, doubled or oversold, and the first in line win', async () => {
    const system = faultSystem();
    let kills = 0;
    const result = await runScenario(system, {
      name: `kill -9 a worker ×${KILLS} (2 workers)`,
      events: 5,
      ticketsPerEvent: 1_000,
      load: { purchases: 10_000, concurrency: 64, ratePerSecond: 300 },
      faults: async () => {
        while (kills < KILLS) {
          await sleep(randomBetween(300, 1_200));
          // A worker that is still starting has nothing to lose yet: kill one that is draining.
          if (!(await killAndReplaceWorker(system))) continue;
          kills += 1;
        }
        return `${kills} workers killed at random moments and restarted`;
      },
    });
    expect(kills).toBe(KILLS);
    expect(result.violations).toEqual([]);
    expect(result.accepted).toBe(10_000);
  });
});
