import { describe, expect, it } from 'vitest';
import { activeJobs, useFaultSystem } from './support/fault-system.js';
import { sleep } from '@ticketing/harness';
import { randomBetween, runScenario } from './support/scenario.js';

/** Past the job lock (3 s), two stalled checks (1 s apart), the event lease (2 s) and the idle-in-transaction timeout (3 s). */
const PAUSE_MS = 7_000;
const ZOMBIES = 2;
/** 30 s of load at 300/s: room for two 7.5 s freezes and the tries that miss (a worker holds jobs only briefly). */
const PURCHASES = 9_000;
const faultSystem = useFaultSystem({ workers: 2 });

describe('zombie worker', () => {
  it('when a worker freezes past its locks while the other takes over its jobs, then wakes up and carries on, the books stay exact', async () => {
    const system = faultSystem();
    let zombies = 0;
    let tries = 0;
    let held = 0;
    const result = await runScenario(system, {
      name: `zombie worker ×${ZOMBIES} (SIGSTOP past its locks, SIGCONT)`,
      events: 2,
      ticketsPerEvent: PURCHASES / 4,
      load: { purchases: PURCHASES, concurrency: 64, ratePerSecond: 300 },
      faults: async (buyers) => {
        // A freeze only counts while purchases still arrive: after the load, no worker holds jobs.
        while (zombies < ZOMBIES && buyers.finishedAt === 0) {
          tries += 1;
          await sleep(randomBetween(50, 300));
          const started = await system.startedWorkers();
          const zombie = started[Math.floor(Math.random() * started.length)];
          if (zombie === undefined) continue;
          zombie.signal('SIGSTOP');
          // Jobs still active half a second later are the frozen worker's (the other one finishes
          // its batches in milliseconds). Only a freeze that holds jobs is a zombie worth the wait;
          // a worker holds jobs only briefly, so most tries catch none and end at once.
          const before = await activeJobs(system);
          if (before.size > 0) await sleep(500);
          const frozen =
            before.size === 0 ? [] : [...(await activeJobs(system))].filter((id) => before.has(id));
          if (frozen.length > 0) {
            await sleep(PAUSE_MS);
            zombies += 1;
            held += frozen.length;
          }
          zombie.signal('SIGCONT');
        }
        return `${zombies} freezes of ${PAUSE_MS / 1000} s (${tries} tries) holding ${held} jobs; ${await system.logCount('worker', 'job stalled')} jobs taken over`;
      },
    });
    expect(zombies).toBe(ZOMBIES);
    // The frozen worker's jobs were handed to the other worker (and the zombie then ran them too).
    expect(await system.logCount('worker', 'job stalled')).toBeGreaterThan(0);
    expect(system.started.filter((service) => !service.running)).toEqual([]);
    expect(result.violations).toEqual([]);
    expect(result.accepted).toBe(PURCHASES);
  });
});
