import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessSystem } from '@ticketing/harness';
import { createTestEnvironment } from '@ticketing/shared/testing';
import { httpHelpers } from './support/http.js';
import { registeredRoutes, sampleUrl } from './support/routes.js';
import { startTestSystem, type TestSystem } from './support/test-system.js';

const ADMIN_TOKEN = 'an-admin-token-for-the-monitor';
const bearer = { authorization: `Bearer ${ADMIN_TOKEN}` };
const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

let system: TestSystem;
const { inject, buy } = httpHelpers(() => system);
beforeAll(async () => {
  system = await startTestSystem({ ADMIN_TOKEN });
});
afterAll(async () => {
  await system?.close();
});

async function createEvent(name: string, totalTickets: number) {
  const response = await inject({
    method: 'POST',
    url: '/events',
    headers: bearer,
    payload: { name, totalTickets, priceCents: 2500, currency: 'EUR' },
  });
  expect(response.statusCode).toBe(201);
  return response.json<{ id: string }>();
}

/** What anyone may call without the admin token (buyers, probes, documentation); everything else is admin. */
const PUBLIC_ROUTES = [
  /^GET \/docs(\/|$)/,
  /^GET \/(health|ready|metrics)$/,
  /^GET \/events(\/[^/]+(\/status)?)?$/,
  /^POST \/events\/[^/]+\/purchases$/,
  /^GET \/purchases\/[^/]+$/,
  /^POST \/purchases\/[^/]+\/cancel$/,
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
    while (!queues.some((queue) => queue.name === `event-{${event.id}}`) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      queues = await listQueues();
    }
    expect(queues.find((queue) => queue.name === `event-{${event.id}}`)?.displayName).toContain(
      'Late addition',
    );
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
