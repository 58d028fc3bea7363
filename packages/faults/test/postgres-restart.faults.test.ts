import { describe, expect, it } from 'vitest';
import { useFaultSystem } from './support/fault-system.js';
import { sleep } from '@ticketing/harness';
import { probePurchase } from './support/probe.js';
import { runScenario } from './support/scenario.js';

const PURCHASES = 3_000;
const faultSystem = useFaultSystem({ workers: 2 });

describe('Postgres restarts', () => {
  it('when Postgres crashes (immediate stop) mid-load and restarts, then no process dies, the api answers 503 meanwhile, and it recovers by itself', async () => {
    const system = faultSystem();
    let probe = { status: '', ms: 0 };
    let ready = 0;
    const result = await runScenario(system, {
      name: 'Postgres immediate stop, 2 s down, start',
      events: 3,
      ticketsPerEvent: 500,
      load: { purchases: PURCHASES, concurrency: 64, ratePerSecond: 400 },
      faults: async (buyers) => {
        await buyers.reached(PURCHASES * 0.4);
        await system.postgres.stop('immediate');
        await sleep(300);
        probe = await probePurchase(system.url, [...buyers.accepted.values()][0]?.eventId ?? '');
        ready = (await fetch(`${system.url}/ready`)).status;
        await sleep(1_700);
        await system.postgres.start();
        return `Postgres down 2 s at 40% (a purchase meanwhile: ${probe.status} in ${probe.ms} ms, /ready ${ready})`;
      },
    });
    expect(probe.status).toBe('503 unavailable');
    expect(probe.ms).toBeLessThan(2_000);
    expect(ready).toBe(503);
    expect(system.started.filter((service) => !service.running)).toEqual([]);
    expect(result.violations).toEqual([]);
    expect(result.accepted).toBe(PURCHASES);
  });
});
