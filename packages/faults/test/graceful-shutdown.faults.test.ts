import { describe, expect, it } from 'vitest';
import { activeJobs, useFaultSystem } from './support/fault-system.js';
import type { Exit } from '@ticketing/harness';
import { runScenario } from './support/scenario.js';

const PURCHASES = 3_000;
const faultSystem = useFaultSystem({ workers: 2 });

describe('graceful shutdown', () => {
  it('when the api and a worker get SIGTERM under load, then they exit cleanly, leave no stalled job, and nothing is lost', async () => {
    const system = faultSystem();
    const exits: Exit[] = [];
    const result = await runScenario(system, {
      name: 'SIGTERM a worker, then the api, under load',
      events: 3,
      ticketsPerEvent: 500,
      load: { purchases: PURCHASES, concurrency: 64, ratePerSecond: 400 },
      faults: async (buyers) => {
        await buyers.reached(PURCHASES * 0.3);
        const [worker] = await system.startedWorkers();
        if (worker !== undefined) {
          exits.push(await worker.stop('SIGTERM', 15_000));
          await system.replaceWorker(worker);
        }
        await buyers.reached(PURCHASES * 0.6);
        exits.push(await system.api.stop('SIGTERM', 15_000));
        await system.startApi();
        return 'SIGTERM to a worker at 30% and to the api at 60% of the load, each restarted';
      },
    });
    expect(result.violations).toEqual([]);
    expect(result.accepted).toBe(PURCHASES);

    // Everything stops on SIGTERM: clean exits, and no job left active for a stalled check to find.
    for (const service of [system.api, ...system.workers]) exits.push(await service.stop('SIGTERM', 15_000));
    expect(exits).toEqual(exits.map(() => ({ code: 0, signal: null })));
    expect((await activeJobs(system)).size).toBe(0);
    expect(await system.logCount('worker', 'job stalled')).toBe(0);
  });
});
