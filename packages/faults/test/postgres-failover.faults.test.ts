import { describe, expect, it } from 'vitest';
import { PostgresFormation, sleep, waitFor, type RedisServer } from '@ticketing/harness';
import type { Buyers } from '../src/buyers.js';
import { openBooks, useFaultSystem, type FaultSystem } from './support/fault-system.js';
import { auditHolds, Payers, waitAllHoldsEnded } from './support/holds.js';
import { probePurchase } from './support/probe.js';
import { runScenario } from './support/scenario.js';

const PURCHASES = 1_500;
const CANCELLATIONS = 100;
const HOLD_SECONDS = 2;

type FormationSystem = FaultSystem<RedisServer, PostgresFormation>;

/** From the kill until the api takes a purchase again (a probe every 100 ms; infinite after a minute). */
async function acceptingAgainAfter(
  system: FormationSystem,
  eventId: string,
  killedAt: number,
): Promise<number> {
  for (;;) {
    const probe = await probePurchase(system.url, eventId);
    if (probe.status === '202') return Date.now() - killedAt;
    if (Date.now() - killedAt > 60_000) return Number.POSITIVE_INFINITY;
    await sleep(100);
  }
}

/**
 * Asks to cancel the last `count` accepted purchases through the api, retrying each on 503 (a
 * failover); returns how many were cancelled. A hold that ran out cannot be (409 hold_expired), and a
 * request whose 503 came after its commit finds it asked already (409 already_cancelled).
 */
async function cancelSome(system: FormationSystem, buyers: Buyers, count: number): Promise<number> {
  const cancelOne = async (purchaseId: string): Promise<boolean> => {
    for (;;) {
      const response = await fetch(`${system.url}/purchases/${purchaseId}/cancel`, { method: 'POST' });
      const { code } = (await response.json()) as { code?: string };
      if (response.status === 503) {
        await sleep(200);
        continue;
      }
      const outcome = response.status === 202 ? 'cancelled' : `${response.status} ${code}`;
      expect(['cancelled', '409 already_cancelled', '409 hold_expired'], purchaseId).toContain(outcome);
      return outcome !== '409 hold_expired';
    }
  };
  // The latest: still waiting or held, so there is something to cancel.
  const accepted = [...buyers.accepted.values()].slice(-count);
  const outcomes = await Promise.all(accepted.map(({ purchaseId }) => cancelOne(purchaseId)));
  return outcomes.filter(Boolean).length;
}

const seconds = (ms: number): string => (ms / 1000).toFixed(1);

describe('the Postgres primary dies (synchronous replication)', () => {
  const faultSystem = useFaultSystem({ workers: 2, postgres: () => PostgresFormation.start() });

  it('when the primary is killed -9 mid on-sale with holds and cancellations, then the standby takes over, every process follows it, and nothing accepted is lost, doubled or oversold', async () => {
    const system = faultSystem();
    const formation = system.postgres;
    const [first, second] = formation.nodes;
    expect(await formation.primary()).toBe(first);
    const db = openBooks(system);
    const payers = new Payers(
      db,
      () => system.url,
      (purchaseId) => parseInt(purchaseId.slice(0, 2), 16) % 2 === 0,
    );
    let promotedMs = Number.POSITIVE_INFINITY;
    let acceptingAgainMs = Number.POSITIVE_INFINITY;
    let rejoinedMs = Number.POSITIVE_INFINITY;
    let cancelled = 0;
    let readyAfter: unknown;
    const result = await runScenario(system, {
      name: 'kill -9 the Postgres primary (pg_auto_failover, synchronous standby)',
      events: 3,
      ticketsPerEvent: 200,
      holdSeconds: HOLD_SECONDS,
      load: { purchases: PURCHASES, concurrency: 32, ratePerSecond: 200 },
      fifo: false,
      faults: async (buyers) => {
        await buyers.reached(PURCHASES * 0.4);
        const eventId = [...buyers.accepted.values()][0]?.eventId ?? '';
        const killedAt = Date.now();
        await formation.kill(first);
        const accepting = acceptingAgainAfter(system, eventId, killedAt);
        await formation.waitForStates(
          'the standby to be promoted',
          async () => (await formation.primary()) === second,
        );
        promotedMs = Date.now() - killedAt;
        acceptingAgainMs = await accepting;
        readyAfter = await (await fetch(`${system.url}/ready`)).json();
        // Cancellations on the new primary, while the sale goes on: of purchases accepted after the
        // failover, most of them still waiting or held.
        await buyers.reached(buyers.accepted.size + CANCELLATIONS);
        cancelled = await cancelSome(system, buyers, CANCELLATIONS);
        // The old primary comes back and follows the new one.
        formation.restart(first);
        await formation.waitForStates('the old primary to rejoin as a standby', (states) =>
          states.some((state) => state.name === first.name && state.reported === 'secondary'),
        );
        rejoinedMs = Date.now() - killedAt;
        return (
          `primary killed -9 at 40%; standby promoted after ${seconds(promotedMs)} s, a purchase accepted again ` +
          `after ${seconds(acceptingAgainMs)} s; ${cancelled} purchases cancelled; the old primary a standby ` +
          `again after ${seconds(rejoinedMs)} s`
        );
      },
      settle: async (books) => {
        await waitFor('every cancellation carried out', async () => {
          const { rows } = await books.query<{ pending: number }>(
            `select count(*)::int as pending from purchases where cancel_requested_at is not null and status <> 'cancelled'`,
          );
          return rows[0]?.pending === 0;
        });
        await waitAllHoldsEnded(books);
        await payers.stop();
      },
    });
    const holds = await auditHolds(db).finally(() => db.end());
    console.log(
      `Postgres failover: promoted after ${promotedMs} ms, purchases accepted again after ${acceptingAgainMs} ms, ` +
        `old primary rejoined after ${rejoinedMs} ms; holds ${holds.holds} (${holds.confirmed} confirmed, ${holds.expired} expired, ${holds.cancelled} cancelled)`,
    );
    expect(Number.isFinite(promotedMs)).toBe(true);
    expect(Number.isFinite(acceptingAgainMs)).toBe(true);
    expect(Number.isFinite(rejoinedMs)).toBe(true);
    expect(readyAfter).toEqual({ status: 'ok', postgresPrimary: `127.0.0.1:${second.port}` });
    // The others had run out of hold time first (409 hold_expired), more of them on a busy machine.
    expect(cancelled).toBeGreaterThan(0);
    expect(system.started.filter((service) => !service.running)).toEqual([]);
    expect(result.violations).toEqual([]);
    expect(result.lost).toBe(0);
    expect(result.accepted).toBe(PURCHASES);
    expect(result.final).toBe(PURCHASES);
    expect(holds.violations).toEqual([]);
    expect(holds.holds).toBeGreaterThan(0);
    expect(await formation.primary()).toBe(second);
  });
});

describe('the Postgres primary dies (asynchronous replication, standby behind): the negative control', () => {
  const faultSystem = useFaultSystem({ workers: 2, postgres: () => PostgresFormation.start() });

  it('when the standby lags and the primary is killed -9, then the audit reports accepted purchases lost', async () => {
    const system = faultSystem();
    const formation = system.postgres;
    const [first, second] = formation.nodes;
    await formation.replicateAsynchronously();
    let promotedMs = Number.POSITIVE_INFINITY;
    const result = await runScenario(system, {
      name: 'negative control: kill -9 the Postgres primary, standby asynchronous and held behind',
      events: 3,
      ticketsPerEvent: 200,
      load: { purchases: PURCHASES, concurrency: 32, ratePerSecond: 200 },
      fifo: false,
      faults: async (buyers) => {
        await buyers.reached(PURCHASES * 0.4);
        // The standby receives nothing more while the primary goes on accepting purchases.
        await formation.holdBackStandby();
        const heldAt = buyers.accepted.size;
        await buyers.reached(heldAt + 200);
        const killedAt = Date.now();
        await formation.kill(first);
        await formation.waitForStates(
          'the standby to be promoted',
          async () => (await formation.primary()) === second,
        );
        promotedMs = Date.now() - killedAt;
        return `standby asynchronous, held behind at 40% for ${buyers.accepted.size - heldAt} accepted purchases, then the primary killed -9; standby promoted after ${seconds(promotedMs)} s`;
      },
    });
    expect(Number.isFinite(promotedMs)).toBe(true);
    // What the synchronous standby prevents: purchases answered 202 that the new primary never had.
    expect(result.lost).toBeGreaterThan(0);
    expect(result.violations.join('\n')).toMatch(/accepted purchases are not in Postgres/);
  });
});
