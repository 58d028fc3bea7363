import { freePort } from '@ticketing/harness';
import { formatAddress, parseDatabaseUrl } from '@ticketing/shared';
import { createDb, createLogger, createRedis } from '@ticketing/shared/testing';
import { sql } from 'kysely';
import { reconcile, startMetricsServer, workerRegistry, type MetricsServer } from '@ticketing/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpHelpers } from './support/http.js';
import { metricValue } from './support/prometheus.js';
import { useTestSystem } from './support/test-system.js';

const system = await useTestSystem();
let workerMetrics: MetricsServer;
const { inject, createEvent, submit, poll, buy } = httpHelpers(() => system);

beforeAll(async () => {
  workerMetrics = await startMetricsServer({ registry: workerRegistry, port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await workerMetrics?.close();
});

async function scrapeApi(): Promise<string> {
  const response = await inject({ method: 'GET', url: '/metrics' });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toContain('text/plain');
  return response.body;
}

async function scrapeWorker(): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${workerMetrics.port}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
}

const purchaseRequests = (text: string, status: string) =>
  metricValue(text, 'ticketing_http_request_duration_seconds_count', {
    method: 'POST',
    route: '/events/:id/purchases',
    status_code: status,
  });

describe('metrics', () => {
  it('when purchases are made, then request durations by route and status and decisions by outcome move', async () => {
    const event = await createEvent({ totalTickets: 2 });
    const [apiBefore, workerBefore] = [await scrapeApi(), await scrapeWorker()];
    for (const userId of ['m-1', 'm-2', 'm-3']) await buy(event.id, { userId });
    const refused = await inject({
      method: 'POST',
      url: `/events/${event.id}/purchases`,
      payload: { userId: 'm-4', quantity: 11 },
    });
    expect(refused.statusCode).toBe(422);
    const [apiAfter, workerAfter] = [await scrapeApi(), await scrapeWorker()];

    expect(purchaseRequests(apiAfter, '202') - purchaseRequests(apiBefore, '202')).toBe(3);
    expect(purchaseRequests(apiAfter, '422') - purchaseRequests(apiBefore, '422')).toBe(1);
    const decided = (text: string, outcome: string) =>
      metricValue(text, 'ticketing_purchases_decided_total', { outcome });
    expect(decided(workerAfter, 'confirmed') - decided(workerBefore, 'confirmed')).toBe(2);
    expect(decided(workerAfter, 'waitlisted') - decided(workerBefore, 'waitlisted')).toBe(1);
    expect(
      metricValue(workerAfter, 'ticketing_worker_jobs_completed_total') -
        metricValue(workerBefore, 'ticketing_worker_jobs_completed_total'),
    ).toBe(3);
    const rounds = (text: string) => metricValue(text, 'ticketing_worker_batch_duration_seconds_count');
    expect(rounds(workerAfter)).toBeGreaterThan(rounds(workerBefore));
    // Every round's size is observed, and every job's wait from enqueue to commit.
    const moved = (name: string) => metricValue(workerAfter, name) - metricValue(workerBefore, name);
    expect(moved('ticketing_worker_round_jobs_count')).toBe(rounds(workerAfter) - rounds(workerBefore));
    expect(moved('ticketing_worker_round_jobs_sum')).toBe(3);
    expect(moved('ticketing_worker_job_latency_seconds_count')).toBe(3);
    expect(moved('ticketing_worker_job_latency_seconds_sum')).toBeGreaterThan(0);
    // The default process metrics come from both processes.
    for (const text of [apiAfter, workerAfter]) {
      expect(text).toContain('process_cpu_user_seconds_total');
      expect(text).toContain('nodejs_heap_size_used_bytes');
    }
  });

  it('when purchases wait for a worker, then the queue depth of their event rises and falls', async () => {
    const event = await createEvent({ totalTickets: 5 });
    await system.stopWorker();
    const waiting = [await submit(event.id, { userId: 'd-1' }), await submit(event.id, { userId: 'd-2' })];
    const depth = (text: string) => metricValue(text, 'ticketing_queue_depth', { event_id: event.id });
    expect(depth(await scrapeApi())).toBe(2);

    await system.startWorker();
    for (const purchase of waiting) await poll(purchase.purchaseId);
    const text = await scrapeApi();
    expect(text).toContain(`ticketing_queue_depth{event_id="${event.id}"} 0`);
  });

  it('when the reconciler re-creates lost jobs, then its counter moves', async () => {
    const event = await createEvent({ totalTickets: 5 });
    const before = metricValue(await scrapeWorker(), 'ticketing_reconciler_requeued_total');
    const runsBefore = metricValue(await scrapeWorker(), 'ticketing_reconciler_runs_total');
    // With no worker running, nothing else can decide the purchase before the sweep sees it.
    await system.stopWorker();
    const lost = await submit(event.id, { userId: 'r-1' });
    await system.environment.redis.deleteKeys();
    const log = createLogger({ level: 'silent', name: 'reconciler' });
    expect(await reconcile({ db: system.deps.db, queues: system.deps.queues, log }, 0)).toBe(1);
    expect(metricValue(await scrapeWorker(), 'ticketing_reconciler_requeued_total') - before).toBe(1);
    expect(metricValue(await scrapeWorker(), 'ticketing_reconciler_runs_total') - runsBefore).toBe(1);
    await system.startWorker();
    expect((await poll(lost.purchaseId)).status).toBe('confirmed');
  });

  it('when holds are made, expire and are confirmed, then held tickets, decisions by outcome and queued expiries move', async () => {
    const event = await createEvent({ totalTickets: 1, holdSeconds: 1 });
    const workerBefore = await scrapeWorker();
    const held = await buy(event.id, { userId: 'hm-1' });
    const waiting = await buy(event.id, { userId: 'hm-2' });
    expect([held.status, waiting.status]).toEqual(['held', 'waitlisted']);
    const heldTickets = (text: string) => metricValue(text, 'ticketing_held_tickets', { event_id: event.id });
    expect(heldTickets(await scrapeApi())).toBe(1);

    // The first hold runs out; the one waiting is held in turn, and pays.
    await poll(waiting.purchaseId, (body) => body.status === 'held');
    const confirmed = await inject({ method: 'POST', url: `/purchases/${waiting.purchaseId}/confirm` });
    expect(confirmed.statusCode).toBe(200);
    const [apiAfter, workerAfter] = [await scrapeApi(), await scrapeWorker()];
    expect(heldTickets(apiAfter)).toBe(0);
    const moved = (name: string, labels?: Record<string, string>) =>
      metricValue(workerAfter, name, labels) - metricValue(workerBefore, name, labels);
    const decided = (outcome: string) => moved('ticketing_purchases_decided_total', { outcome });
    expect([decided('held'), decided('waitlisted'), decided('expired'), decided('promoted')]).toEqual([
      1, 1, 1, 1,
    ]);
    expect(decided('confirmed')).toBe(0);
    expect(moved('ticketing_hold_expiries_queued_total')).toBe(1);
    expect(
      metricValue(apiAfter, 'ticketing_http_request_duration_seconds_count', {
        route: '/purchases/:id/confirm',
        status_code: '200',
      }),
    ).toBe(1);
  });

  it('when the processes use Postgres, then both export the host their connections go to', async () => {
    await createEvent({ totalTickets: 1 });
    const [host] = parseDatabaseUrl(system.config.databaseUrl).hosts.map(formatAddress);
    for (const text of [await scrapeApi(), await scrapeWorker()]) {
      expect(metricValue(text, 'ticketing_postgres_host_in_use', { host: host ?? '' })).toBe(1);
    }
  });

  it('when a Postgres or Redis connection is refused, then both processes count it by service', async () => {
    const errors = (text: string, service: string) =>
      metricValue(text, 'ticketing_connection_errors_total', { service });
    const [apiBefore, workerBefore] = [await scrapeApi(), await scrapeWorker()];
    // Nothing listens on a port just freed.
    const closedPort = await freePort();
    const db = createDb(`postgres://postgres@127.0.0.1:${closedPort}/nowhere`);
    await expect(sql`select 1`.execute(db)).rejects.toThrow();
    await db.destroy();
    const redis = createRedis(`redis://127.0.0.1:${closedPort}`, 'requests');
    await expect(redis.ping()).rejects.toThrow();
    redis.disconnect();
    const [apiAfter, workerAfter] = [await scrapeApi(), await scrapeWorker()];
    for (const [after, before] of [
      [apiAfter, apiBefore],
      [workerAfter, workerBefore],
    ] as const) {
      expect(errors(after, 'postgres') - errors(before, 'postgres')).toBeGreaterThanOrEqual(1);
      expect(errors(after, 'redis') - errors(before, 'redis')).toBeGreaterThanOrEqual(1);
    }
  });

  it('when requests match no route, then they share one "unmatched" series', async () => {
    for (const url of ['/nope/1', '/nope/2'])
      expect((await inject({ method: 'GET', url })).statusCode).toBe(404);
    const text = await scrapeApi();
    expect(
      metricValue(text, 'ticketing_http_request_duration_seconds_count', {
        route: 'unmatched',
        status_code: '404',
      }),
    ).toBe(2);
    expect(text).not.toContain('/nope/');
    const other = await fetch(`http://127.0.0.1:${workerMetrics.port}/other`);
    expect(other.status).toBe(404);
    expect(await other.json()).toMatchObject({ code: 'not_found' });
  });
});
