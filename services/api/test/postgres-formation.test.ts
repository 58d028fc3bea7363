import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PostgresFormation,
  ProcessSystem,
  sharedRedisPrefix,
  waitFor,
  type RedisTarget,
} from '@ticketing/harness';
import { loadOptions, runLoad } from '@ticketing/loadtest';

const EVENTS = 20;

let formation: PostgresFormation;
let redis: RedisTarget;
let system: ProcessSystem<PostgresFormation, RedisTarget>;

beforeAll(async () => {
  formation = await PostgresFormation.start();
  redis = sharedRedisPrefix();
  // Every process reaches Postgres through a DATABASE_URL listing both nodes (read-write).
  system = await ProcessSystem.create({ postgres: formation, redis });
  await system.startApi();
  await system.startWorkers(2);
}, 120_000);

afterAll(async () => {
  const clean = { code: 0, signal: null };
  expect(await system?.stop()).toEqual([clean, clean, clean]);
  await redis?.destroy();
  await formation?.destroy();
});

async function count(url: string, text: string): Promise<number> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    return Number((await db.query<{ n: string }>(text)).rows[0]?.n);
  } finally {
    await db.end();
  }
}

describe('on a pg_auto_failover formation', () => {
  it(`when an on-sale over ${EVENTS} events with cancellations runs with both nodes in DATABASE_URL, then the books are exact, kept on the primary and copied to the standby`, async () => {
    const [first, second] = formation.nodes;
    // The standby is listed second here; the selection does not depend on the order (postgres-hosts.test.ts).
    expect(await formation.primary()).toBe(first);
    const result = await runLoad(
      loadOptions({
        url: system.url,
        events: EVENTS,
        tickets: 30,
        purchases: 1_500,
        concurrency: 64,
        quantity: { min: 1, max: 2 },
        cancelRatio: 0.1,
        priceCents: 1_500,
      }),
    );
    expect(result.errors, result.errorSamples.join('\n')).toBe(0);
    expect(result.accepted).toBe(1_500);
    // Per event: sold <= total, confirmed quantities = sold, revenue, waiting list 1..n, nothing undecided.
    expect(result.audit).toEqual({ ok: true, violations: [] });
    expect(result.cancelled).toBeGreaterThan(0);

    const ready = await (await fetch(`${system.url}/ready`)).json();
    expect(ready).toEqual({ status: 'ok', postgresPrimary: `127.0.0.1:${first.port}` });
    // Every service connection is on the primary; the standby has every purchase too.
    expect(
      await count(
        formation.nodeUrl(second, 'postgres'),
        "select count(*) as n from pg_stat_activity where datname = 'ticketing'",
      ),
    ).toBe(0);
    const purchases = 'select count(*) as n from purchases';
    expect(await count(formation.nodeUrl(first), purchases)).toBe(1_500);
    await waitFor('the standby to replay every purchase', async () => {
      return (await count(formation.nodeUrl(second), purchases)) === 1_500;
    });
  });
});
