import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { waitFor } from '@ticketing/harness';
import { WebhookReceiver } from '@ticketing/shared/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { httpHelpers, type PurchaseBody } from './support/http.js';
import { useBlockSystem, useTestSystem, type TestSystem } from './support/test-system.js';

/** Short retries, so a test sees several attempts per message in well under a second. */
const FAST_RETRIES = { WEBHOOK_RETRY_BASE_MS: '100', WEBHOOK_RETRY_MAX_DELAY_MS: '400' };

const system = await useTestSystem(FAST_RETRIES);
const { inject, createEvent, buy, cancel } = httpHelpers(() => system);
const receivers: WebhookReceiver[] = [];

afterAll(async () => {
  await Promise.all(receivers.map((receiver) => receiver.close()));
});

async function receiver(failAttempts: number | ((type: string) => number)): Promise<WebhookReceiver> {
  const started = await WebhookReceiver.start({ failAttempts });
  receivers.push(started);
  return started;
}

/** Registers the receiver's endpoint and has it verify every request with the secret it got back. */
async function register(
  app: TestSystem,
  target: WebhookReceiver,
  body: Record<string, unknown> = {},
): Promise<{ id: string; secret: string; events: string[] }> {
  const response = await app.app.inject({
    method: 'POST',
    url: '/webhooks',
    payload: { url: target.url, ...body },
  });
  expect(response.statusCode, response.body).toBe(201);
  const endpoint = response.json<{ id: string; secret: string; events: string[] }>();
  const webhook = new Webhook(endpoint.secret);
  target.verifyWith((payload, headers) => webhook.verify(payload, headers));
  return endpoint;
}

describe('signed webhooks', () => {
  it('when an on-sale with cancellations runs, then a receiver that fails first attempts gets every state change once, in order per purchase, each signature valid', async () => {
    // Confirmations take four attempts, everything else two: a purchase's next message is often ready
    // to go before its confirmation got through, and must wait for it.
    const everything = await receiver((type) => (type === 'purchase.confirmed' ? 3 : 1));
    const cancellations = await receiver(0);
    const all = await register(system, everything, { description: 'the shop' });
    expect(all.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(all.events).toEqual([
      'purchase.prequeued',
      'purchase.held',
      'purchase.confirmed',
      'purchase.waitlisted',
      'purchase.rejected',
      'purchase.cancelled',
      'purchase.expired',
      'purchase.promoted',
      'event.sold_out',
      'event.sale_started',
      'event.updated',
      'event.paused',
      'event.resumed',
      'event.ended',
      'event.cancelled',
    ]);
    await register(system, cancellations, { events: ['purchase.cancelled'] });

    const event = await createEvent({ totalTickets: 4 });
    const firstOutcome = new Map<string, PurchaseBody>();
    const bought = async (userId: string, body: Record<string, unknown> = {}) => {
      const purchase = await buy(event.id, { userId, ...body });
      firstOutcome.set(purchase.purchaseId, purchase);
      return purchase;
    };
    const [b1, b2, b3, b4] = [await bought('b1'), await bought('b2'), await bought('b3'), await bought('b4')];
    const [b5, b6, b7] = [await bought('b5'), await bought('b6'), await bought('b7')];
    const b8 = await bought('b8', { joinWaitlist: false });
    const again = await bought('b1');
    expect([b1, b2, b3, b4].map((purchase) => purchase.status)).toEqual(Array(4).fill('confirmed'));
    expect([b5, b6, b7].map((purchase) => purchase.status)).toEqual(Array(3).fill('waitlisted'));
    expect([b8.reason, again.reason]).toEqual(['sold_out', 'duplicate_purchase']);

    const cancelled = [b2, b6, b3, b4];
    for (const purchase of cancelled) await cancel(purchase.purchaseId);
    // The last ticket again, given back at once; then bought, and handed on to the waiting list.
    const b9 = await bought('b9');
    await cancel(b9.purchaseId);
    const b10 = await bought('b10');
    const b11 = await bought('b11');
    await cancel(b10.purchaseId);
    expect([b9.status, b10.status, b11.status]).toEqual(['confirmed', 'confirmed', 'waitlisted']);
    cancelled.push(b9, b10);

    // What each purchase went through, as the test drove it.
    const expected = new Map<string, string[]>();
    for (const [purchaseId, outcome] of firstOutcome) {
      const types = [`purchase.${outcome.status}`];
      if (cancelled.some((purchase) => purchase.purchaseId === purchaseId)) types.push('purchase.cancelled');
      if ([b5, b7, b11].some((purchase) => purchase.purchaseId === purchaseId))
        types.push('purchase.promoted');
      expected.set(purchaseId, types);
    }
    const expectedCount = [...expected.values()].flat().length + 3;
    await waitFor('every message accepted', async () => everything.accepted.length >= expectedCount, 60_000);
    await waitFor('the cancellations accepted', async () => cancellations.accepted.length >= 6, 30_000);
    // Nothing more comes later.
    await new Promise((resolve) => setTimeout(resolve, 1_500));

    expect(everything.badSignatures).toEqual([]);
    expect(everything.accepted).toHaveLength(expectedCount);
    for (const [purchaseId, types] of expected) {
      const messages = everything.about(purchaseId);
      expect(
        messages.map((message) => message.type),
        purchaseId,
      ).toEqual(types);
      // The last message shows the purchase as the api does now.
      const now = await inject({ method: 'GET', url: `/purchases/${purchaseId}` });
      expect(messages.at(-1)?.data).toEqual(now.json());
      for (const message of messages) expect(message.timestamp).toBe(message.data.processedAt);
    }
    expect(everything.about(b5.purchaseId).at(-1)?.data).toMatchObject({
      status: 'confirmed',
      bookingId: expect.any(String),
    });
    const soldOut = everything.about(event.id);
    // Sold out by b4, by b9, by b10; not when b11 took b10's ticket over.
    expect(soldOut.map((message) => message.data)).toEqual(
      Array(3).fill({
        eventId: event.id,
        totalTickets: 4,
        soldTickets: 4,
        availableTickets: 0,
        waitlistCount: 0,
      }),
    );
    // The first attempts of every message failed; ids stayed the same across attempts.
    expect(everything.requests).toBeGreaterThanOrEqual(2 * expectedCount);
    expect(new Set(everything.accepted.map((message) => message.id)).size).toBe(expectedCount);

    // The endpoint subscribed to cancellations got those only.
    expect(cancellations.badSignatures).toEqual([]);
    // (Messages of different purchases keep no order among themselves.)
    expect(cancellations.accepted.map((message) => [message.type, message.data.purchaseId]).sort()).toEqual(
      cancelled.map((purchase) => ['purchase.cancelled', purchase.purchaseId]).sort(),
    );

    const attempts = await inject({ method: 'GET', url: `/webhooks/${all.id}/deliveries?limit=500` });
    expect(attempts.statusCode).toBe(200);
    const items = attempts.json<{ items: { statusCode?: number; error?: string; succeeded: boolean }[] }>()
      .items;
    const confirmations = everything.accepted.filter(
      (message) => message.type === 'purchase.confirmed',
    ).length;
    expect(confirmations).toBe(6);
    expect(items.filter((attempt) => attempt.succeeded)).toHaveLength(expectedCount);
    expect(items.filter((attempt) => attempt.statusCode === 500)).toHaveLength(expectedCount + confirmations);
    expect(items.filter((attempt) => attempt.error !== undefined)).toHaveLength(confirmations);
    const listed = await inject({ method: 'GET', url: '/webhooks' });
    expect(listed.json<{ items: Record<string, unknown>[] }>().items).toEqual([
      expect.objectContaining({ id: all.id, enabled: true, description: 'the shop' }),
      expect.objectContaining({ events: ['purchase.cancelled'], enabled: true }),
    ]);
    expect(JSON.stringify(listed.json())).not.toContain('whsec_');
  });

  it('when holds are paid for, run out and pass to the next in line, then the shop hears each change: held, confirmed, expired, promoted', async () => {
    const target = await receiver(0);
    await register(system, target);
    const event = await createEvent({ totalTickets: 2, holdSeconds: 1 });
    const pays = await buy(event.id, { userId: 'pays' });
    const neverPays = await buy(event.id, { userId: 'never-pays' });
    const next = await buy(event.id, { userId: 'next-in-line' });
    expect([pays.status, neverPays.status, next.status]).toEqual(['held', 'held', 'waitlisted']);
    const paid = await inject({ method: 'POST', url: `/purchases/${pays.purchaseId}/confirm` });
    expect(paid.statusCode, paid.body).toBe(200);

    // The unpaid hold runs out; its ticket is offered to the next in line as a hold of its own.
    await waitFor('every change delivered', async () => target.accepted.length >= 6, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(target.badSignatures).toEqual([]);
    const types = (purchaseId: string) => target.about(purchaseId).map((message) => message.type);
    expect(types(pays.purchaseId)).toEqual(['purchase.held', 'purchase.confirmed']);
    expect(types(neverPays.purchaseId)).toEqual(['purchase.held', 'purchase.expired']);
    expect(types(next.purchaseId)).toEqual(['purchase.waitlisted', 'purchase.promoted']);
    expect(target.about(next.purchaseId).at(-1)?.data).toMatchObject({
      status: 'held',
      holdExpiresAt: expect.any(String),
    });
    for (const purchase of [pays, neverPays, next]) {
      const now = await inject({ method: 'GET', url: `/purchases/${purchase.purchaseId}` });
      expect(target.about(purchase.purchaseId).at(-1)?.data).toEqual(now.json());
    }
  });

  it('when an endpoint is deleted, then nothing more is sent to it and its deliveries are gone', async () => {
    const target = await receiver(0);
    const endpoint = await register(system, target, { events: ['purchase.confirmed'] });
    const event = await createEvent({ totalTickets: 5 });
    await buy(event.id, { userId: 'before-delete' });
    await waitFor('the confirmation', async () => target.accepted.length === 1);
    const deleted = await inject({ method: 'DELETE', url: `/webhooks/${endpoint.id}` });
    expect(deleted.statusCode).toBe(204);
    expect((await inject({ method: 'DELETE', url: `/webhooks/${endpoint.id}` })).statusCode).toBe(404);
    // Every process has stopped recording for it within a refresh.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await buy(event.id, { userId: 'after-delete' });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(target.accepted).toHaveLength(1);
    expect((await inject({ method: 'GET', url: `/webhooks/${endpoint.id}/deliveries` })).statusCode).toBe(
      404,
    );
  });

  it('when a URL is not http(s) or the events are unknown, then registration is refused and nothing is stored', async () => {
    for (const [payload, status] of [
      [{ url: 'ftp://shop.example/hooks' }, 422],
      [{ url: 'not a url' }, 422],
      [{ url: 'https://user:pass@shop.example/hooks' }, 422],
      [{ url: 'https://shop.example/hooks', events: ['purchase.paid'] }, 400],
      [{ url: 'https://shop.example/hooks', events: [] }, 400],
      [{ url: 'https://shop.example/hooks', secret: 'mine' }, 400],
    ] as const) {
      const response = await inject({ method: 'POST', url: '/webhooks', payload });
      expect(response.statusCode, JSON.stringify(payload)).toBe(status);
      expect(response.json()).toEqual({ code: expect.any(String), message: expect.any(String) });
    }
    const stored = await system.deps.db
      .selectFrom('webhookEndpoints')
      .select('url')
      .where('url', 'not like', 'http://127.0.0.1:%')
      .execute();
    expect(stored).toEqual([]);
  });
});

describe('webhooks to private networks (WEBHOOK_BLOCK_PRIVATE_NETWORKS=true)', () => {
  const blocking = useBlockSystem({ ...FAST_RETRIES, WEBHOOK_BLOCK_PRIVATE_NETWORKS: 'true' });

  it('when a URL resolves to a loopback or private address, then registration is refused', async () => {
    for (const url of [
      'http://127.0.0.1:9/hooks',
      'http://localhost/hooks',
      'http://10.1.2.3/hooks',
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]/hooks',
      'http://[::ffff:192.168.0.1]/hooks',
    ]) {
      const response = await blocking().app.inject({ method: 'POST', url: '/webhooks', payload: { url } });
      expect(response.statusCode, url).toBe(422);
      expect(response.json()).toMatchObject({ code: 'webhook_url_not_allowed' });
    }
    expect(await blocking().deps.db.selectFrom('webhookEndpoints').select('id').execute()).toEqual([]);
  });

  it('when a registered name resolves to a private address at delivery (DNS rebinding), then nothing is sent there', async () => {
    const target = await receiver(0);
    const port = new URL(target.url).port;
    // As if these names had resolved to public addresses when they were registered.
    const endpoints = [`http://localhost:${port}/hooks`, `http://127.0.0.1:${port}/hooks`].map((url) => ({
      id: randomUUID(),
      url,
      description: null,
      events: ['purchase.confirmed'],
      secret: `whsec_${Buffer.alloc(32, 7).toString('base64')}`,
    }));
    await blocking().deps.db.insertInto('webhookEndpoints').values(endpoints).execute();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const created = await blocking().app.inject({
      method: 'POST',
      url: '/events',
      payload: { name: 'Rebinding', totalTickets: 2, priceCents: 0 },
    });
    const eventId = created.json<{ id: string }>().id;
    const accepted = await blocking().app.inject({
      method: 'POST',
      url: `/events/${eventId}/purchases`,
      payload: { userId: 'rebound' },
    });
    expect(accepted.statusCode).toBe(202);
    const attempts = async () =>
      blocking()
        .deps.db.selectFrom('webhookAttempts')
        .select(['endpointId', 'statusCode', 'error'])
        .execute();
    await waitFor(
      'an attempt to each endpoint',
      async () => new Set((await attempts()).map((a) => a.endpointId)).size === 2,
    );
    for (const attempt of await attempts()) {
      expect(attempt.statusCode).toBeNull();
      expect(attempt.error).toMatch(/not a public address/);
    }
    expect(target.requests).toBe(0);
  });
});

describe('failing endpoints', () => {
  const strict = useBlockSystem({ ...FAST_RETRIES, WEBHOOK_DISABLE_AFTER_MS: '1000' });

  async function saleWithOnePurchase(userId: string): Promise<void> {
    const created = await strict().app.inject({
      method: 'POST',
      url: '/events',
      payload: { name: 'Failing', totalTickets: 2, priceCents: 0 },
    });
    const response = await strict().app.inject({
      method: 'POST',
      url: `/events/${created.json<{ id: string }>().id}/purchases`,
      payload: { userId },
    });
    expect(response.statusCode).toBe(202);
  }

  const endpointState = async (id: string) =>
    (await strict().app.inject({ method: 'GET', url: '/webhooks' }))
      .json<{ items: { id: string; enabled: boolean; disabledReason?: string; failingSince?: string }[] }>()
      .items.find((endpoint) => endpoint.id === id);

  it('when an endpoint fails for the configured time, then it is disabled and says why; one answering 410 Gone at once', async () => {
    const down = await receiver(Number.MAX_SAFE_INTEGER);
    const failing = await register(strict(), down);
    const goneServer = createServer((_request, response) => response.writeHead(410).end());
    await new Promise<void>((resolve) => goneServer.listen(0, '127.0.0.1', resolve));
    const goneUrl = `http://127.0.0.1:${(goneServer.address() as AddressInfo).port}/`;
    const goneEndpoint = (
      await strict().app.inject({ method: 'POST', url: '/webhooks', payload: { url: goneUrl } })
    ).json<{ id: string }>();

    await saleWithOnePurchase('disabled-soon');
    await waitFor(
      'the failing endpoint disabled',
      async () => (await endpointState(failing.id))?.enabled === false,
      20_000,
    );
    expect(await endpointState(failing.id)).toMatchObject({
      enabled: false,
      disabledReason: expect.stringMatching(/^Every delivery failed since/),
      failingSince: expect.any(String),
    });
    expect(await endpointState(goneEndpoint.id)).toMatchObject({
      enabled: false,
      disabledReason: 'The endpoint answered 410 Gone',
    });
    const attemptsToGone = await strict()
      .deps.db.selectFrom('webhookAttempts')
      .select('statusCode')
      .where('endpointId', '=', goneEndpoint.id)
      .execute();
    expect(attemptsToGone).toEqual([{ statusCode: 410 }]);
    goneServer.close();

    // Nothing more is recorded or sent for a disabled endpoint.
    const requestsSoFar = down.requests;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await saleWithOnePurchase('after-disable');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(down.requests).toBe(requestsSoFar);
    const pending = await strict()
      .deps.db.selectFrom('webhookDeliveries')
      .select('status')
      .where('endpointId', '=', failing.id)
      .where('status', '=', 'pending')
      .execute();
    expect(pending).toEqual([]);
  });
});
