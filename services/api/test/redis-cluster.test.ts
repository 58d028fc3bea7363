import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ProcessSystem,
  RedisCluster,
  runId,
  sharedPostgresDatabase,
  type PostgresTarget,
} from '@ticketing/harness';
import { eventIdOfKey, workerConnectionName } from '@ticketing/shared';
import { loadOptions, runLoad } from '@ticketing/loadtest';

const EVENTS = 50;

let cluster: RedisCluster;
let postgres: PostgresTarget;
let system: ProcessSystem<PostgresTarget, RedisCluster>;

beforeAll(async () => {
  cluster = await RedisCluster.start({ keyPrefix: `test_${runId()}` });
  postgres = await sharedPostgresDatabase();
  // Every process reaches Redis through REDIS_CLUSTER_NODES only (the target sets no REDIS_URL).
  system = await ProcessSystem.create({ postgres, redis: cluster });
  await system.startApi();
  await system.startWorkers(2);
}, 60_000);

afterAll(async () => {
  const clean = { code: 0, signal: null };
  expect(await system?.stop()).toEqual([clean, clean, clean]);
  await cluster?.destroy();
  await postgres?.destroy();
});

describe('on a Redis Cluster', () => {
  it(`when an on-sale over ${EVENTS} events with cancellations runs on 3 masters, then the books are exact and the events are spread over every master`, async () => {
    const result = await runLoad(
      loadOptions({
        url: system.url,
        events: EVENTS,
        tickets: 30,
        purchases: 3_000,
        concurrency: 96,
        quantity: { min: 1, max: 2 },
        cancelRatio: 0.1,
        priceCents: 1_500,
      }),
    );
    expect(result.errors, result.errorSamples.join('\n')).toBe(0);
    expect(result.accepted).toBe(3_000);
    // Per event: sold <= total, confirmed quantities = sold, revenue, waiting list 1..n, nothing undecided.
    expect(result.audit).toEqual({ ok: true, violations: [] });
    expect(result.cancelled).toBeGreaterThan(0);
    expect(result.waitlisted).toBeGreaterThan(0);

    const db = new pg.Pool({ connectionString: postgres.databaseUrl, max: 1 });
    const events = (await db.query<{ id: string }>('select id from events')).rows.map((row) => row.id);
    await db.end();
    expect(events).toHaveLength(EVENTS);

    // Where each event's keys are: on exactly one master (its hash tag), and every master has some.
    const masters = await cluster.masterPorts();
    expect(masters).toHaveLength(3);
    const mastersOfEvent = new Map<string, Set<number>>();
    for (const port of masters) {
      for (const key of await cluster.keysOn(port, `${cluster.keyPrefix}:event-*`)) {
        const eventId = eventIdOfKey(cluster.keyPrefix, key);
        if (eventId === undefined) continue;
        mastersOfEvent.set(eventId, (mastersOfEvent.get(eventId) ?? new Set()).add(port));
      }
    }
    expect([...mastersOfEvent.keys()].sort()).toEqual([...events].sort());
    expect([...mastersOfEvent.values()].filter((ports) => ports.size !== 1)).toEqual([]);
    const eventsPerMaster = masters.map(
      (port) => [...mastersOfEvent.values()].filter((ports) => ports.has(port)).length,
    );
    expect(
      eventsPerMaster.every((count) => count > 0),
      `events per master: ${eventsPerMaster}`,
    ).toBe(true);

    // Every process talks to every master: the api and both workers' command connections are on each.
    for (const port of masters) {
      const clients = await cluster.cli(port, 'client', 'list');
      expect(clients).toContain(` name=${cluster.keyPrefix}:api `);
      const workers = clients
        .split('\n')
        .filter((line) => line.includes(` name=${workerConnectionName(cluster.keyPrefix, '')}`));
      expect(workers, `workers' connections on ${port}`).toHaveLength(2);
    }

    // The queue dashboard reads the queues through the cluster, and finds each worker process once,
    // though each is connected to every master. A drained event rests with its lease (a third of it,
    // 5 s by default) before the dashboard calls it not being drained.
    const descriptions = async (): Promise<string> => {
      const dashboard = await fetch(`${system.url}/admin/queues/api/queues?page=1&jobsPerPage=1`);
      expect(dashboard.status).toBe(200);
      const { queues } = (await dashboard.json()) as { queues: { description?: string }[] };
      expect(queues).toHaveLength(EVENTS);
      return queues.map((queue) => queue.description ?? '').join('\n');
    };
    const deadline = Date.now() + 15_000;
    let described = await descriptions();
    while (!/of 2 worker processes/.test(described) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      described = await descriptions();
    }
    expect(described).toMatch(/of 2 worker processes/);

    const check = await cluster.check();
    expect(check.ok, check.output).toBe(true);
  }, 120_000);
});
