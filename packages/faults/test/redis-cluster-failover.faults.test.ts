import { describe, expect, it } from 'vitest';
import { RedisCluster, sleep } from '@ticketing/harness';
import { eventIdOfKey } from '@ticketing/shared';
import { useFaultSystem } from './support/fault-system.js';
import { probePurchase } from './support/probe.js';
import { runScenario } from './support/scenario.js';

const PURCHASES = 3_000;
/** The cluster counts a silent master failed after this long, and its replica takes over. */
const NODE_TIMEOUT_MS = 1_000;

const faultSystem = useFaultSystem({
  workers: 2,
  redis: () => RedisCluster.start({ keyPrefix: 'faults', nodeTimeoutMs: NODE_TIMEOUT_MS }),
});

describe('a Redis Cluster master dies', () => {
  it('when a master is killed -9 mid-load, then its replica takes over and nothing accepted is lost, doubled or oversold', async () => {
    const system = faultSystem();
    const cluster = system.redis;
    let failoverMs = Number.POSITIVE_INFINITY;
    let acceptingAgainMs = Number.POSITIVE_INFINITY;
    let victimEvents = 0;
    const result = await runScenario(system, {
      name: 'kill -9 a Redis Cluster master (3 masters + 3 replicas)',
      events: 6,
      ticketsPerEvent: 250,
      load: { purchases: PURCHASES, concurrency: 64, ratePerSecond: 300 },
      faults: async (buyers) => {
        await buyers.reached(PURCHASES * 0.4);
        // The master holding the most events' queues, so the kill hits on-sales in progress.
        const masters = await cluster.masterPorts();
        const eventsOn = await Promise.all(
          masters.map(async (port) => {
            const keys = await cluster.keysOn(port, `${cluster.keyPrefix}:event-*`);
            return new Set(keys.flatMap((key) => eventIdOfKey(cluster.keyPrefix, key) ?? []));
          }),
        );
        const most = eventsOn.reduce(
          (best, events, index) => (events.size > (eventsOn[best]?.size ?? 0) ? index : best),
          0,
        );
        const victim = masters[most] ?? 0;
        const [victimEvent] = eventsOn[most] ?? [];
        victimEvents = eventsOn[most]?.size ?? 0;

        const killedAt = Date.now();
        await cluster.kill(victim);
        // A purchase of an event whose keys were on the dead master, until the api takes one again.
        const accepting = (async () => {
          for (;;) {
            const probe = await probePurchase(system.url, victimEvent ?? '');
            if (probe.status === '202') return Date.now() - killedAt;
            if (Date.now() - killedAt > 60_000) return Number.POSITIVE_INFINITY;
            await sleep(100);
          }
        })();
        await cluster.waitForFailover(victim);
        failoverMs = Date.now() - killedAt;
        acceptingAgainMs = await accepting;
        // The dead master comes back (empty) and rejoins as a replica of the one that replaced it.
        await cluster.restart(victim);
        await cluster.waitHealthy();
        const seconds = (ms: number) => (ms / 1000).toFixed(1);
        return (
          `master with ${victimEvents} of 6 events killed -9 at 40% (cluster-node-timeout ${NODE_TIMEOUT_MS} ms); ` +
          `its replica serving after ${seconds(failoverMs)} s, its events accepting purchases again after ` +
          `${seconds(acceptingAgainMs)} s; the old master rejoined as a replica`
        );
      },
    });
    console.log(
      `failover: replica serving after ${failoverMs} ms, purchases accepted again after ${acceptingAgainMs} ms`,
    );
    expect(victimEvents).toBeGreaterThan(0);
    expect(Number.isFinite(failoverMs)).toBe(true);
    expect(Number.isFinite(acceptingAgainMs)).toBe(true);
    expect(result.violations).toEqual([]);
    expect(result.accepted).toBe(PURCHASES);
    expect(result.final).toBe(PURCHASES);
    const check = await cluster.check();
    expect(check.ok, check.output).toBe(true);
    expect(await cluster.masterPorts()).toHaveLength(3);
  });
});
