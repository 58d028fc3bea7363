import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { workerProcessName } from '@ticketing/shared';
import { dashboardQueueName } from '../src/admin/queue-dashboard.js';
import { describe, expect, it } from 'vitest';
import { ProcessSystem } from '@ticketing/harness';
import { createTestEnvironment } from '@ticketing/shared/testing';
import { httpHelpers } from './support/http.js';
import { registeredRoutes, sampleUrl } from './support/routes.js';
import { startTestSystem, useTestSystem } from './support/test-system.js';

const ADMIN_TOKEN = 'an-admin-token-for-the-monitor';
const bearer = { authorization: `Bearer ${ADMIN_TOKEN}` };
const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

const system = await useTestSystem({ ADMIN_TOKEN });
const { inject, buy, submit, poll, cancel } = httpHelpers(() => system);

async function createEvent(name: string, totalTickets: number, holdSeconds = 0) {
  const response = await inject({
    method: 'POST',
    url: '/events',
    headers: bearer,
    payload: { name, totalTickets, priceCents: 2500, currency: 'EUR', holdSeconds },
  });
  expect(response.statusCode).toBe(201);
  return response.json<{ id: string }>();
}

/** What anyone may call without the admin token (buyers, probes, documentation); everything else is admin. */
const PUBLIC_ROUTES = [
  /^GET \/docs(\/|$)/,
  /^GET \/(health|ready|metrics)$/,
  /^GET \/events(\/[^/]+(\/status|\/draw)?)?$/,
  /^POST \/events\/[^/]+\/purchases$/,
  /^GET \/purchases\/[^/]+$/,
  /^POST \/purchases\/[^/]+\/(cancel|confirm)$/,
  /^POST \/(book|cancel)$/,
  /^GET \/status\/[^/]+$/,
];

describe('admin routes', () => {
  it('when ADMIN_TOKEN is set, then every route but the public ones is 401 without it or with a wrong one', async () => {
    const adminRoutes = (await registeredRoutes(system.deps))
      .filter(({ method }) => method !== 'HEAD')
      .map(({ method, url }) => ({ method, url: sampleUrl(url) }))
      .filter(({ method, url }) => !PUBLIC_ROUTES.some((pattern) => pattern.test(`${method} ${url}`)));
    // The list is read from the app itself: events, reports, the monitor and Bull Board's API are in it.
    for (const expected of ['POST /events', 'GET /admin', 'GET /admin/api/sales', 'GET /admin/queues']) {
      expect(adminRoutes.map(({ method, url }) => `${method} ${url}`)).toContain(expected);
    }
    expect(adminRoutes.filter(({ url }) => url.startsWith('/admin/queues/api/')).length).toBeGreaterThan(20);
    expect(adminRoutes.some(({ url }) => url.startsWith('/reports'))).toBe(true);
    for (const { method, url } of adminRoutes) {
      for (const headers of [{}, { authorization: 'Bearer not-the-admin-token' }]) {
        const response = await inject({ method: method as 'GET', url, headers, payload: {} });
        expect(response.statusCode, `${method} ${url}`).toBe(401);
        expect(response.json(), `${method} ${url}`).toEqual({
          code: 'unauthorized',
          message: expect.any(String),
        });
      }
    }
  });

  it('when the api would listen on 0.0.0.0 without ADMIN_TOKEN, then it does not start and says why', async () => {
    const environment = await createTestEnvironment();
    const processes = await ProcessSystem.create({
      postgres: environment.postgres,
      redis: environment.redis,
    });
    try {
      await expect(processes.startApi({ HOST: '0.0.0.0' })).rejects.toThrow(
        /exited \(1\) before it was ready:\nInvalid configuration:\n {2}- ADMIN_TOKEN must be set when the api listens on HOST=0\.0\.0\.0/,
      );
      // The reason, not a stack trace.
      expect(await processes.api.logTail()).not.toMatch(/^\s+at /m);
      expect(processes.api.exit).toEqual({ code: 1, signal: null });
    } finally {
      await processes.stop();
      await environment.destroy();
    }
  });
});

describe('admin pages', () => {
  it('when the admin pages are opened without the token, then they answer 401 and ask a browser to log in', async () => {
    for (const url of ['/admin', '/admin/api/sales', '/admin/queues', '/admin/queues/api/queues']) {
      for (const headers of [{}, basic('admin', 'wrong-password-here'), { authorization: ADMIN_TOKEN }]) {
        const response = await inject({ method: 'GET', url, headers });
        expect(response.statusCode, url).toBe(401);
        expect(response.headers['www-authenticate']).toBe('Basic realm="Ticketing admin", charset="UTF-8"');
        expect(response.json()).toMatchObject({ code: 'unauthorized' });
      }
    }
  });

  it('when the token comes as Bearer or as any user’s basic-auth password, then the pages open', async () => {
    for (const headers of [bearer, basic('admin', ADMIN_TOKEN), basic('', ADMIN_TOKEN)]) {
      const page = await inject({ method: 'GET', url: '/admin', headers });
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toContain('text/html');
      expect(page.body).toContain('On-sale monitor');
      const dashboard = await inject({ method: 'GET', url: '/admin/queues', headers });
      expect(dashboard.statusCode).toBe(200);
      expect(dashboard.body).toContain('Ticketing queues');
    }
    // API routes challenge for a Bearer token instead.
    const create = await inject({
      method: 'POST',
      url: '/events',
      payload: { name: 'x', totalTickets: 1, priceCents: 0 },
    });
    expect(create.statusCode).toBe(401);
    expect(create.headers['www-authenticate']).toBe('Bearer realm="Ticketing admin"');
  });

  it('when purchases are decided, then the monitor figures show sold, waiting, revenue and decided counts', async () => {
    const event = await createEvent('Monitor show', 2);
    for (const userId of ['a', 'b', 'c']) await buy(event.id, { userId });
    const response = await inject({ method: 'GET', url: '/admin/api/sales', headers: bearer });
    expect(response.statusCode).toBe(200);
    const item = response
      .json<{ items: Record<string, unknown>[] }>()
      .items.find((row) => row.eventId === event.id);
    expect(item).toMatchObject({
      name: 'Monitor show',
      totalTickets: 2,
      soldTickets: 2,
      availableTickets: 0,
      waitlisted: 1,
      queueDepth: 0,
      decided: 3,
      revenueCents: 5000,
      currency: 'EUR',
    });
    expect(item?.decidedPerSecond).toBeGreaterThan(0);
  });

  it('when tickets are held and holds run out, then the monitor shows held tickets and expired holds apart from sold ones', async () => {
    const event = await createEvent('Monitor holds', 2, 1);
    const first = await buy(event.id, { userId: 'h-a' });
    await buy(event.id, { userId: 'h-b' });
    const figures = async () => {
      const response = await inject({ method: 'GET', url: '/admin/api/sales', headers: bearer });
      expect(response.statusCode).toBe(200);
      return response
        .json<{ items: Record<string, unknown>[] }>()
        .items.find((row) => row.eventId === event.id);
    };
    expect(await figures()).toMatchObject({
      soldTickets: 0,
      heldTickets: 2,
      availableTickets: 0,
      holdsExpired: 0,
      outcomes: { confirmed: 0, held: 2, expired: 0 },
    });
    await inject({ method: 'POST', url: `/purchases/${first.purchaseId}/confirm` });
    const deadline = Date.now() + 10_000;
    while (((await figures())?.holdsExpired ?? 0) === 0 && Date.now() < deadline) await sleep(100);
    expect(await figures()).toMatchObject({
      soldTickets: 1,
      heldTickets: 0,
      availableTickets: 1,
      holdsExpired: 1,
      revenueCents: 2500,
      outcomes: { confirmed: 1, held: 0, expired: 1, rejected: 0 },
    });
  });

  it('when purchases are confirmed, waitlisted, rejected and cancelled, then the monitor counts each outcome', async () => {
    const event = await createEvent('Outcomes', 2);
    const [first] = [await buy(event.id, { userId: 'o-1' }), await buy(event.id, { userId: 'o-2' })];
    const waiting = await buy(event.id, { userId: 'o-3' });
    expect((await buy(event.id, { userId: 'o-4', joinWaitlist: false })).status).toBe('rejected');
    const outcomes = async () => {
      const response = await inject({ method: 'GET', url: '/admin/api/sales', headers: bearer });
      expect(response.statusCode).toBe(200);
      return response
        .json<{ items: { eventId: string; outcomes: Record<string, number> }[] }>()
        .items.find((row) => row.eventId === event.id)?.outcomes;
    };
    expect(await outcomes()).toEqual({
      confirmed: 2,
      held: 0,
      waitlisted: 1,
      rejected: 1,
      cancelled: 0,
      expired: 0,
    });
    // A cancellation frees a ticket for the waiting list: one more cancelled, one fewer waiting.
    await cancel(first!.purchaseId);
    await poll(waiting.purchaseId, (body) => body.status === 'confirmed');
    expect(await outcomes()).toEqual({
      confirmed: 2,
      held: 0,
      waitlisted: 0,
      rejected: 1,
      cancelled: 1,
      expired: 0,
    });
  });

  it('when an event is created while the api runs, then its queue appears in the dashboard', async () => {
    const listQueues = async () => {
      const response = await inject({ method: 'GET', url: '/admin/queues/api/queues', headers: bearer });
      expect(response.statusCode).toBe(200);
      return response.json<{ queues: { name: string; displayName: string }[] }>().queues;
    };
    await listQueues();
    const event = await createEvent('Late addition', 5);
    await buy(event.id, { userId: 'late' });
    // The queue list is re-read from Postgres at most every 2 s.
    const deadline = Date.now() + 5_000;
    let queues = await listQueues();
    const name = dashboardQueueName({ id: event.id, name: 'Late addition' });
    expect(name).toBe(`Late addition · event-{${event.id}}`);
    while (!queues.some((queue) => queue.name === name) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      queues = await listQueues();
    }
    expect(queues.find((queue) => queue.name === name)?.displayName).toContain('Late addition');
  });
});

describe('queue dashboard workers', () => {
  interface DashboardQueue {
    name: string;
    displayName: string;
    description: string;
    hasWorkers: boolean | null;
  }
  const queueOf = async (eventId: string): Promise<DashboardQueue | undefined> => {
    const name = dashboardQueueName({ id: eventId, name: 'Drained gig' });
    const response = await inject({ method: 'GET', url: '/admin/queues/api/queues', headers: bearer });
    expect(response.statusCode).toBe(200);
    return response.json<{ queues: DashboardQueue[] }>().queues.find((queue) => queue.name === name);
  };
  /** The list (and who drains each queue) is re-read at most every 2 s. */
  async function waitForQueue(eventId: string, done: (queue: DashboardQueue) => boolean) {
    const deadline = Date.now() + 10_000;
    let queue = await queueOf(eventId);
    while ((queue === undefined || !done(queue)) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      queue = await queueOf(eventId);
    }
    expect(queue).toBeDefined();
    return queue as DashboardQueue;
  }
  const workersOf = async (eventId: string) => {
    const response = await inject({
      method: 'GET',
      url: `/admin/queues/api/queues/${encodeURIComponent(dashboardQueueName({ id: eventId, name: 'Drained gig' }))}/workers`,
      headers: bearer,
    });
    expect(response.statusCode).toBe(200);
    return response.json<{ workers: { name: string; addr: string }[] }>().workers;
  };

  it('when a worker drains an event, then Bull Board lists it by host and pid as the one draining, since when', async () => {
    const me = workerProcessName(hostname(), process.pid);
    const event = await createEvent('Drained gig', 5);
    await system.stopWorker();
    const waiting = (await submit(event.id, { userId: 'dash-1' })).purchaseId;
    const idle = await waitForQueue(event.id, (queue) => queue.hasWorkers === false);
    expect(idle.displayName).toBe(`Drained gig (event-{${event.id}})`);
    expect(idle.description).toContain('No worker process is connected');
    expect(await workersOf(event.id)).toEqual([]);

    // Holding the event's row lock keeps the worker inside its round, with the event's lease taken.
    const blocker = new pg.Client({ connectionString: system.config.databaseUrl });
    await blocker.connect();
    try {
      await blocker.query('begin');
      await blocker.query('select id from events where id = $1 for update', [event.id]);
      await system.startWorker();
      const drained = await waitForQueue(event.id, (queue) => queue.description.includes('Drained by'));
      expect(drained.hasWorkers).toBe(true);
      expect(drained.description).toContain(`Drained by worker ${me} since `);
      expect(drained.description).toMatch(/ since \d\d:\d\d:\d\d UTC$/);
      const [first] = await workersOf(event.id);
      expect(first?.name).toContain(`${me} (draining since `);
      expect(first?.addr).toMatch(/^127\.0\.0\.1:\d+$/);
    } finally {
      await blocker.query('commit');
      await blocker.end();
    }
    expect((await poll(waiting)).status).toBe('confirmed');
    // Drained, the event's lease is let go: the worker is ready for it, not draining it.
    const after = await waitForQueue(event.id, (queue) => !queue.description.includes('Drained by'));
    expect(after.description).toContain('Not being drained: the next purchase wakes one of 1 worker process');
    expect((await workersOf(event.id)).map((worker) => worker.name)).toEqual([`${me} (ready)`]);
  });
});

describe('admin routes without a token, on loopback', () => {
  it('when ADMIN_TOKEN is unset, then the admin routes are open to this machine only (development)', async () => {
    const open = await startTestSystem({}, { worker: false });
    try {
      for (const url of ['/admin', '/admin/api/sales', '/reports/events', '/admin/queues/api/queues']) {
        expect((await open.app.inject({ method: 'GET', url })).statusCode, url).toBe(200);
        expect(
          (await open.app.inject({ method: 'GET', url, headers: { origin: 'http://localhost:3000' } }))
            .statusCode,
        ).toBe(200);
      }
      const refused = [
        // DNS rebinding: a page's own name resolving to 127.0.0.1 carries that name as Host.
        { headers: { host: 'rebind.attacker.example:3000' } },
        // A cross-site request from a page the operator has open.
        { headers: { origin: 'https://attacker.example' } },
        { headers: { origin: 'null' } },
        // From elsewhere (through a proxy that keeps the Host, say).
        { remoteAddress: '203.0.113.7' },
      ];
      for (const options of refused) {
        const response = await open.app.inject({ method: 'POST', url: '/events', payload: {}, ...options });
        expect(response.statusCode, JSON.stringify(options)).toBe(403);
        expect(response.json()).toEqual({ code: 'admin_local_only', message: expect.any(String) });
      }
      expect(await open.deps.db.selectFrom('events').select('id').execute()).toEqual([]);
    } finally {
      await open.close();
    }
  });
});
