import { describe, expect, it } from 'vitest';
import { sleep } from '@ticketing/harness';
import { killAndReplaceWorker, openBooks, useFaultSystem } from './support/fault-system.js';
import { auditHolds, Payers, waitAllHoldsEnded } from './support/holds.js';
import { randomBetween, runScenario } from './support/scenario.js';

const KILLS = 12;
const HOLD_SECONDS = 2;
const faultSystem = useFaultSystem({ workers: 2 });

describe('worker crashes while holds expire', () => {
  it('when a worker is killed -9 again and again while holds run out and the line moves up, then every hold ends in exactly one final state and the books are exact', async () => {
    const system = faultSystem();
    const db = openBooks(system);
    // About half the buyers pay for their hold (chosen by purchase id); the others let it run out.
    const payers = new Payers(
      db,
      () => system.url,
      (purchaseId) => parseInt(purchaseId.slice(0, 2), 16) % 2 === 0,
    );
    let kills = 0;
    let holdsEndedAfterSeconds = 0;
    const result = await runScenario(system, {
      name: `kill -9 a worker ×${KILLS} while ${HOLD_SECONDS} s holds expire (2 workers)`,
      events: 3,
      ticketsPerEvent: 150,
      holdSeconds: HOLD_SECONDS,
      load: { purchases: 1_500, concurrency: 32, ratePerSecond: 150 },
      // Holds keep running out well after the load (each expiry promotes the next in line): the
      // kills go on until they are done.
      faults: async () => {
        while (kills < KILLS) {
          await sleep(randomBetween(500, 1_500));
          // A worker that is still starting has nothing to lose yet: kill one that is draining.
          if (!(await killAndReplaceWorker(system))) continue;
          kills += 1;
        }
        return `${kills} workers killed at random moments and restarted`;
      },
      settle: async () => {
        holdsEndedAfterSeconds = (await waitAllHoldsEnded(db)) / 1000;
        await payers.stop();
      },
      fifo: false,
    });
    const holds = await auditHolds(db).finally(() => db.end());
    console.log(
      `holds: ${holds.holds} given, ${holds.confirmed} confirmed (${payers.paid.size} paid, ${payers.tooLate.size} too late), ` +
        `${holds.expired} expired, ${holds.cancelled} cancelled; all ended ${holdsEndedAfterSeconds.toFixed(1)} s after the load`,
    );
    expect(kills).toBe(KILLS);
    expect(result.violations).toEqual([]);
    expect(result.accepted).toBe(1_500);
    expect(holds.violations).toEqual([]);
    expect(holdsEndedAfterSeconds).toBeLessThan(Number.POSITIVE_INFINITY);
    // Every ticket sold went to a buyer who paid (and, audited above, no seat is free while someone
    // waits for it: a line may run dry when many pay too late); the expiries moved the line up.
    expect(holds.confirmed).toBe(payers.paid.size);
    expect(holds.confirmed).toBeGreaterThan(300);
    expect(holds.expired).toBeGreaterThan(100);
    expect(holds.holds).toBe(holds.confirmed + holds.expired + holds.cancelled);
  });
});
