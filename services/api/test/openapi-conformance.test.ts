import { describe, expect, it } from 'vitest';
import { httpHelpers, type PurchaseBody } from './support/http.js';
import {
  answersMet,
  committedDocument,
  conformanceProblems,
  type OpenApiDocument,
} from './support/openapi-conformance.js';
import { useTestSystem } from './support/test-system.js';

/**
 * Every route of the document called the way its users call it (the README's body-less cancel and
 * confirm among them), each exchange checked against openapi.json by Prism's validator. Every other
 * API test file is checked the same way when its system closes; this one makes sure every operation
 * and the answers that are cheap to provoke are met at least once.
 */
const system = await useTestSystem();
const { inject, createEvent, submit, poll } = httpHelpers(() => system);

const MISSING = '00000000-0000-4000-8000-000000000000';

async function callEveryRoute(): Promise<void> {
  const answer = async (
    expected: number,
    options: Parameters<typeof inject>[0],
  ): Promise<Awaited<ReturnType<typeof inject>>> => {
    const response = await inject(options);
    expect(response.statusCode, `${options.method} ${options.url}: ${response.body}`).toBe(expected);
    return response;
  };

  await answer(200, { method: 'GET', url: '/health' });
  await answer(200, { method: 'GET', url: '/ready' });
  await answer(200, { method: 'GET', url: '/metrics' });

  const event = await createEvent({ totalTickets: 2, priceCents: 1500 });
  const held = await createEvent({ totalTickets: 2, holdSeconds: 60 });
  await answer(400, { method: 'POST', url: '/events', payload: { name: '' } });
  await answer(400, {
    method: 'POST',
    url: '/events',
    payload: '{"name":',
    headers: { 'content-type': 'application/json' },
  });
  await answer(415, {
    method: 'POST',
    url: '/events',
    payload: 'name=x',
    headers: { 'content-type': 'text/plain' },
  });
  await answer(200, { method: 'GET', url: '/events?limit=1' });
  await answer(400, { method: 'GET', url: `/events?cursor=${MISSING}` });
  await answer(200, { method: 'GET', url: `/events/${event.id}` });
  await answer(404, { method: 'GET', url: `/events/${MISSING}` });
  await answer(400, { method: 'GET', url: '/events/not-a-uuid' });
  await answer(200, { method: 'GET', url: `/events/${event.id}/status` });
  await answer(404, { method: 'GET', url: `/events/${MISSING}/status` });

  // The on-sale: a window refused, a draw before its start, an event without one, a sale not open yet.
  const soon = new Date(Date.now() + 3_600_000).toISOString();
  const later = new Date(Date.now() + 7_200_000).toISOString();
  await answer(422, {
    method: 'POST',
    url: '/events',
    payload: { name: 'Bad window', totalTickets: 1, priceCents: 0, salesStartAt: later, salesEndAt: soon },
  });
  const onSale = await createEvent({ salesStartAt: later, preQueueOpensAt: soon });
  await answer(200, { method: 'GET', url: `/events/${onSale.id}/draw` });
  await answer(404, { method: 'GET', url: `/events/${event.id}/draw` });
  await answer(409, { method: 'POST', url: `/events/${onSale.id}/purchases`, payload: { userId: 'early' } });

  // Purchases: accepted, waited for, refused; cancelled and confirmed without a body, as the README does.
  const first = await submit(event.id, { userId: 'c1', quantity: 2 }, { 'idempotency-key': 'c1-order' });
  await answer(422, {
    method: 'POST',
    url: `/events/${event.id}/purchases`,
    payload: { userId: 'c1', quantity: 1 },
    headers: { 'idempotency-key': 'c1-order' },
  });
  await answer(422, {
    method: 'POST',
    url: `/events/${event.id}/purchases`,
    payload: { userId: 'c2', quantity: 11 },
  });
  await answer(404, { method: 'POST', url: `/events/${MISSING}/purchases`, payload: { userId: 'c2' } });
  await answer(400, { method: 'POST', url: `/events/${event.id}/purchases`, payload: { quantity: 1 } });
  const waited = await answer(200, {
    method: 'POST',
    url: `/events/${event.id}/purchases`,
    payload: { userId: 'c3', quantity: 1 },
    headers: { prefer: 'wait=10' },
  });
  expect(waited.json<PurchaseBody>().status).toBe('waitlisted');
  await answer(409, { method: 'POST', url: `/purchases/${waited.json<PurchaseBody>().purchaseId}/confirm` });
  await poll(first.purchaseId);
  await answer(200, { method: 'GET', url: `/purchases/${first.purchaseId}?waitMs=0` });
  await answer(404, { method: 'GET', url: `/purchases/${MISSING}` });

  await answer(202, { method: 'POST', url: `/purchases/${first.purchaseId}/cancel` });
  await answer(409, { method: 'POST', url: `/purchases/${first.purchaseId}/cancel` });
  await answer(404, { method: 'POST', url: `/purchases/${MISSING}/cancel`, payload: {} });

  const hold = await poll((await submit(held.id, { userId: 'h1', quantity: 1 })).purchaseId);
  expect(hold.status).toBe('held');
  await answer(200, { method: 'POST', url: `/purchases/${hold.purchaseId}/confirm` });
  await answer(200, {
    method: 'POST',
    url: `/purchases/${hold.purchaseId}/confirm`,
    payload: {},
  });
  await answer(404, { method: 'POST', url: `/purchases/${MISSING}/confirm` });

  await answer(200, { method: 'GET', url: `/events/${event.id}/report` });
  await answer(404, { method: 'GET', url: `/events/${MISSING}/report` });
  await answer(200, { method: 'GET', url: '/reports/events' });
  await answer(200, { method: 'GET', url: '/reports/events?limit=1' });
  await answer(400, { method: 'GET', url: `/reports/events?cursor=${MISSING}` });

  // Running a sale: an edit, a resize refused, pause, resume, close, a cancellation and what it refuses.
  const run = await createEvent({ totalTickets: 5, holdSeconds: 60 });
  await answer(200, { method: 'PATCH', url: `/events/${run.id}`, payload: { name: 'Run', totalTickets: 6 } });
  await answer(400, { method: 'PATCH', url: `/events/${run.id}`, payload: {} });
  await answer(422, { method: 'PATCH', url: `/events/${run.id}`, payload: { holdSeconds: 0 } });
  await answer(404, { method: 'PATCH', url: `/events/${MISSING}`, payload: { name: 'x' } });
  const runHold = await poll((await submit(run.id, { userId: 'r1', quantity: 3 })).purchaseId);
  await answer(409, { method: 'PATCH', url: `/events/${run.id}`, payload: { totalTickets: 2 } });
  await answer(200, { method: 'POST', url: `/events/${run.id}/pause` });
  await answer(200, { method: 'POST', url: `/events/${run.id}/resume` });
  await answer(404, { method: 'POST', url: `/events/${MISSING}/resume` });
  await answer(202, { method: 'POST', url: `/events/${run.id}/cancel`, payload: { reason: 'Storm' } });
  await answer(400, { method: 'POST', url: `/events/${run.id}/cancel`, payload: { reason: '' } });
  await answer(404, { method: 'POST', url: `/events/${MISSING}/cancel`, payload: { reason: 'Storm' } });
  await answer(409, { method: 'POST', url: `/events/${run.id}/close` });
  await answer(409, { method: 'POST', url: `/events/${run.id}/purchases`, payload: { userId: 'r2' } });
  await answer(409, { method: 'POST', url: `/purchases/${runHold.purchaseId}/confirm` });
  const closing = await createEvent({ totalTickets: 1 });
  await answer(200, { method: 'POST', url: `/events/${closing.id}/close` });
  await answer(409, { method: 'POST', url: `/events/${closing.id}/pause` });

  // The seed's routes.
  const seeded = await answer(201, {
    method: 'POST',
    url: '/initialize',
    payload: { name: 'Seed', totalTickets: 1 },
  });
  const seedEventId = seeded.json<{ id: string }>().id;
  await answer(200, { method: 'POST', url: '/book', payload: { userId: 's1', eventId: seedEventId } });
  await answer(200, { method: 'POST', url: '/cancel', payload: { userId: 's1', eventId: seedEventId } });
  await answer(404, { method: 'POST', url: '/cancel', payload: { userId: 's1', eventId: seedEventId } });
  await answer(200, { method: 'GET', url: `/status/${seedEventId}` });

  // Admin pages and webhooks.
  for (const url of [
    '/admin',
    '/admin/monitor.js',
    '/admin/uplot.js',
    '/admin/uplot.css',
    '/admin/api/sales',
  ])
    await answer(200, { method: 'GET', url });
  const webhook = await answer(201, {
    method: 'POST',
    url: '/webhooks',
    payload: { url: 'http://127.0.0.1:9/hooks', description: 'conformance' },
  });
  const webhookId = webhook.json<{ id: string }>().id;
  await answer(200, { method: 'GET', url: '/webhooks' });
  await answer(200, { method: 'GET', url: `/webhooks/${webhookId}/deliveries` });
  await answer(204, { method: 'DELETE', url: `/webhooks/${webhookId}` });
  await answer(404, { method: 'DELETE', url: `/webhooks/${webhookId}` });
  await answer(404, { method: 'GET', url: `/webhooks/${MISSING}/deliveries` });
}

const operationsOf = (document: OpenApiDocument): string[] =>
  Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
  );

describe('the API against openapi.json', () => {
  it('when every route is called as its users call it, then each request and answer is what the document describes', async () => {
    await callEveryRoute();
    expect(await conformanceProblems(system.exchanges)).toEqual([]);

    const met = await answersMet(system.exchanges);
    const operationsMet = new Set([...met].map((answer) => answer.replace(/ \d{3}$/, '')));
    expect(operationsOf(committedDocument()).filter((operation) => !operationsMet.has(operation))).toEqual(
      [],
    );
    for (const answer of [
      'POST /purchases/{id}/cancel 202',
      'POST /purchases/{id}/cancel 409',
      'POST /purchases/{id}/confirm 200',
      'POST /purchases/{id}/confirm 409',
      'POST /events/{id}/purchases 422',
      'POST /events 415',
      'GET /events 400',
    ])
      expect(met).toContain(answer);
  });

  it('when the document requires the body cancel and confirm go without (as it once did), then the check reports each body-less call', async () => {
    const document = committedDocument();
    for (const path of ['/purchases/{id}/cancel', '/purchases/{id}/confirm']) {
      const requestBody = (document.paths[path]?.post as { requestBody?: { required?: boolean } })
        .requestBody;
      expect(requestBody?.required).toBe(false);
      if (requestBody !== undefined) requestBody.required = true;
    }
    const problems = await conformanceProblems(system.exchanges, document);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^POST \/purchases\/[\w-]+\/cancel → 202: the server accepted a request the document refuses: .*required/,
        ),
        expect.stringMatching(
          /^POST \/purchases\/[\w-]+\/confirm → 200: the server accepted a request the document refuses: .*required/,
        ),
      ]),
    );
  });

  it('when a 409 description leaves out a code the route answers with, then the check reports it', async () => {
    const document = committedDocument();
    const conflict = document.paths['/purchases/{id}/cancel']?.post?.responses['409'];
    expect(conflict?.description).toContain('`already_cancelled`');
    if (conflict !== undefined) conflict.description = 'Not possible in the current state';
    expect(await conformanceProblems(system.exchanges, document)).toContainEqual(
      expect.stringMatching(/cancel → 409: error code `already_cancelled` is not named/),
    );
  });
});
