import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createRedis } from '@ticketing/shared/testing';
import { httpHelpers, type PurchaseBody } from './support/http.js';
import { useBlockSystem, useTestSystem } from './support/test-system.js';

const IP_MAX = 8;
const USER_MAX = 3;
const system = await useTestSystem({
  RATE_LIMIT_IP_MAX: String(IP_MAX),
  RATE_LIMIT_USER_MAX: String(USER_MAX),
  CORS_ORIGINS: 'https://shop.example',
});
const { inject, createEvent, poll } = httpHelpers(() => system);

/** Documentation addresses (RFC 5737): never on the allow-list. */
let nextAddress = 1;
const outsider = () => `203.0.113.${nextAddress++}`;

describe('rate limits', () => {
  it('when one outside client floods, then it gets 429 with Retry-After and {code, message}; loopback is never throttled', async () => {
    const remoteAddress = outsider();
    const statuses: number[] = [];
    let limited;
    for (let index = 0; index < IP_MAX + 3; index += 1) {
      const response = await inject({ method: 'GET', url: '/health', remoteAddress });
      statuses.push(response.statusCode);
      if (response.statusCode === 429) limited = response;
    }
    expect(statuses.slice(0, IP_MAX).every((status) => status === 200)).toBe(true);
    expect(statuses.slice(IP_MAX)).toEqual([429, 429, 429]);
    expect(limited?.headers['retry-after']).toMatch(/^\d+$/);
    expect(limited?.json()).toEqual({ code: 'rate_limited', message: expect.any(String) });

    for (let index = 0; index < IP_MAX * 3; index += 1) {
      expect((await inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    }

    // Counted in Redis under the system's prefix, so every api process shares the count.
    const redis = createRedis(system.config.redisUrl, 'requests');
    try {
      const key = `${system.config.queuePrefix}:rate-limit:ip:${remoteAddress}`;
      expect(Number(await redis.get(key))).toBe(IP_MAX + 3);
      const [, keys] = await redis.scan('0', 'MATCH', `*rate-limit*${remoteAddress}`, 'COUNT', 100_000);
      expect(keys.every((found) => found.startsWith(`${system.config.queuePrefix}:`))).toBe(true);
    } finally {
      await redis.quit();
    }
  });

  it('when one user buys from many addresses, then the per-user limit stops them and nothing more is stored', async () => {
    const event = await createEvent({ totalTickets: 100 });
    const userId = `bot-${randomUUID()}`;
    const statuses: number[] = [];
    for (let index = 0; index < USER_MAX + 2; index += 1) {
      const response = await inject({
        method: 'POST',
        url: `/events/${event.id}/purchases`,
        payload: { userId },
        remoteAddress: outsider(),
      });
      statuses.push(response.statusCode);
      if (response.statusCode === 429) expect(response.headers['retry-after']).toMatch(/^\d+$/);
    }
    expect(statuses).toEqual([...Array<number>(USER_MAX).fill(202), 429, 429]);
    const rows = await system.deps.db
      .selectFrom('purchases')
      .select('status')
      .where('eventId', '=', event.id)
      .execute();
    expect(rows).toHaveLength(USER_MAX);
  });

  it('when one user sends 50 purchases in parallel, then exactly one becomes active', async () => {
    const event = await createEvent({ totalTickets: 10 });
    const userId = `eager-${randomUUID()}`;
    const responses = await Promise.all(
      Array.from({ length: 50 }, () =>
        inject({ method: 'POST', url: `/events/${event.id}/purchases`, payload: { userId } }),
      ),
    );
    expect(responses.every((response) => response.statusCode === 202)).toBe(true);
    const outcomes = await Promise.all(
      responses.map(async (response) => (await poll(response.json<PurchaseBody>().purchaseId)).status),
    );
    expect(outcomes.filter((status) => status === 'confirmed')).toHaveLength(1);
    expect(outcomes.filter((status) => status === 'rejected')).toHaveLength(49);
    const active = await system.deps.db
      .selectFrom('purchases')
      .select('id')
      .where('eventId', '=', event.id)
      .where('status', 'in', ['confirmed', 'waitlisted'])
      .execute();
    expect(active).toHaveLength(1);
    const event2 = await inject({ method: 'GET', url: `/events/${event.id}` });
    expect(event2.json()).toMatchObject({ availableTickets: 9 });
  });
});

describe('headers, CORS and ids', () => {
  it('when any route answers, then security headers are set', async () => {
    for (const url of ['/health', `/purchases/${randomUUID()}`, '/no-such-route']) {
      const response = await inject({ method: 'GET', url });
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['x-frame-options']).toBeDefined();
      expect(response.headers['strict-transport-security']).toBeDefined();
    }
  });

  it('when a JSON route answers, then it is never cached or framed; pages get a document policy', async () => {
    const json = await inject({ method: 'GET', url: '/health' });
    expect(json.headers['cache-control']).toBe('no-store');
    expect(json.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
    const page = await inject({ method: 'GET', url: '/docs' });
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['cross-origin-opener-policy']).toBe('same-origin');
  });

  it('when a browser calls from a configured origin, then CORS allows it; any other origin gets nothing', async () => {
    const allowed = await inject({
      method: 'GET',
      url: '/health',
      headers: { origin: 'https://shop.example' },
    });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://shop.example');
    const other = await inject({
      method: 'GET',
      url: '/health',
      headers: { origin: 'https://evil.example' },
    });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('when purchase ids are handed out, then they are random v4 UUIDs and an unknown one reveals nothing', async () => {
    const event = await createEvent({ totalTickets: 5 });
    const ids = [];
    for (let index = 0; index < 5; index += 1) {
      const response = await inject({
        method: 'POST',
        url: `/events/${event.id}/purchases`,
        payload: { userId: `id-${index}` },
      });
      ids.push(response.json<PurchaseBody>().purchaseId);
    }
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);

    const unknown = await Promise.all(
      [randomUUID(), randomUUID()].map((id) => inject({ method: 'GET', url: `/purchases/${id}` })),
    );
    for (const response of unknown) {
      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual({ code: 'not_found', message: 'Purchase not found' });
    }
  });
});

describe('CORS off by default', () => {
  const plain = useBlockSystem({}, { worker: false });

  it('when no origins are configured, then no CORS headers are sent and preflights are not answered', async () => {
    const response = await plain().app.inject({
      method: 'GET',
      url: '/health',
      headers: { origin: 'https://shop.example' },
    });
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await plain().app.inject({
      method: 'OPTIONS',
      url: '/health',
      headers: { origin: 'https://shop.example', 'access-control-request-method': 'GET' },
    });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    expect(preflight.statusCode).toBe(404);
  });
});
