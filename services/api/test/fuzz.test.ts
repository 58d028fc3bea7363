import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { httpHelpers } from './support/http.js';
import { useTestSystem } from './support/test-system.js';

const system = await useTestSystem();
const { createEvent, buy } = httpHelpers(() => system);
let eventId: string;
let purchaseId: string;
beforeAll(async () => {
  eventId = (await createEvent({ totalTickets: 3 })).id;
  purchaseId = (await buy(eventId, { userId: 'fuzz-base' })).purchaseId;
  // Nothing changes the books behind the fuzzer's back: only its own accepted requests do.
  await system.stopWorker();
});

/** Every row of every table, hashed: equal before and after a request that was refused. */
async function booksChecksum(): Promise<string> {
  const { rows } = await sql<{ sum: string }>`
    select md5(
      (select coalesce(string_agg(t::text, '|' order by t.id), '') from events t) ||
      (select coalesce(string_agg(t::text, '|' order by t.id), '') from purchases t) ||
      (select coalesce(string_agg(t::text, '|' order by t.id), '') from bookings t) ||
      (select coalesce(string_agg(t::text, '|' order by t.purchase_id), '') from waitlist_entries t)
    ) as sum`.execute(system.deps.db);
  return rows[0]?.sum ?? '';
}

const MIB = 1024 * 1024;
const unicode = fc.string({ unit: 'grapheme', maxLength: 40 });
const hugeNumber = fc.constantFrom('1e400', '-1e400', '9007199254740993', '1e-400', 'NaN', '-0', '0x10');
const deepNesting = fc
  .integer({ min: 100, max: 20_000 })
  .map((depth) => `${'{"a":['.repeat(depth)}1${']}'.repeat(depth)}`);

/** A path parameter: a real id, an unknown id, or anything else. */
const idParam = (real: string) =>
  fc.oneof(
    fc.constant(real),
    fc.constant(randomUUID()),
    fc.uuid(),
    unicode.map(encodeURIComponent),
    hugeNumber,
    fc.constantFrom('', '%00', '..%2F..%2Fetc', 'null', '[]'),
  );

const routes = (id: string, purchase: string) =>
  fc.oneof(
    fc.constant({ method: 'POST', path: '/events' }),
    fc.constant({ method: 'GET', path: '/events' }),
    idParam(id).map((p) => ({ method: 'GET', path: `/events/${p}` })),
    idParam(id).map((p) => ({ method: 'GET', path: `/events/${p}/status` })),
    idParam(id).map((p) => ({ method: 'GET', path: `/events/${p}/report` })),
    fc.constant({ method: 'GET', path: '/reports/events' }),
    idParam(id).map((p) => ({ method: 'POST', path: `/events/${p}/purchases` })),
    idParam(purchase).map((p) => ({ method: 'GET', path: `/purchases/${p}` })),
    idParam(purchase).map((p) => ({ method: 'POST', path: `/purchases/${p}/cancel` })),
    fc.constantFrom({ method: 'GET', path: '/health' }, { method: 'GET', path: '/ready' }),
    fc.constant({ method: 'POST', path: '/initialize' }),
    // The seed-compatible /book and /cancel wait for a decision: they only ever see unknown events here.
    fc.constantFrom({ method: 'POST', path: '/book' }, { method: 'POST', path: '/cancel' }),
    idParam(id).map((p) => ({ method: 'GET', path: `/status/${p}` })),
    fc.constantFrom({ method: 'PUT', path: '/events' }, { method: 'DELETE', path: `/purchases/${purchase}` }),
  );

const field = fc.oneof(fc.jsonValue(), unicode, hugeNumber.map(Number), fc.constant(randomUUID()));
const bodies = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .dictionary(
        fc.constantFrom(
          'userId',
          'quantity',
          'joinWaitlist',
          'name',
          'totalTickets',
          'priceCents',
          'currency',
          'maxPerPurchase',
          'eventId',
          '__proto__',
          'constructor',
          'extra',
        ),
        field,
      )
      .map((body) => JSON.stringify(body)),
  },
  { weight: 2, arbitrary: fc.jsonValue().map((value) => JSON.stringify(value)) },
  {
    weight: 1,
    arbitrary: hugeNumber.map(
      (n) => `{"totalTickets":${n},"name":"x","priceCents":${n},"userId":${n},"quantity":${n}}`,
    ),
  },
  { weight: 1, arbitrary: deepNesting },
  { weight: 1, arbitrary: unicode },
  {
    weight: 1,
    arbitrary: fc.constantFrom('', '{', '{"userId": "a",}', 'null', '{"__proto__":{"admin":true}}'),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(2 * MIB, MIB + 1).map((size) => `{"userId":"${'x'.repeat(size)}"}`),
  },
);

const printable = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 60,
});
/** Mostly JSON, so bodies reach validation; sometimes anything else. */
const contentType = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8',
      'application/json; charset=utf-16',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/xml',
    ),
  },
  { weight: 1, arbitrary: printable },
);
const headers = fc.record(
  {
    'content-type': contentType,
    'idempotency-key': fc.oneof(printable, fc.constant('k'.repeat(5_000))),
    authorization: printable,
    'x-forwarded-for': printable,
  },
  { requiredKeys: ['content-type'] },
);

const queries = fc.dictionary(
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom('waitMs', 'limit', 'cursor') },
    { weight: 1, arbitrary: printable },
  ),
  fc.oneof(printable, hugeNumber, fc.constantFrom('-1', '30001', '1.5', 'true', '')),
  { maxKeys: 3 },
);

describe('fuzzing every route', () => {
  it('when requests carry anything at all, then the answer is never a 5xx, errors are {code, message}, and a refused request changes nothing', async () => {
    const request = fc.record({ route: routes(eventId, purchaseId), body: bodies, headers, query: queries });
    await fc.assert(
      fc.asyncProperty(request, async ({ route, body, headers: sent, query }) => {
        const before = await booksChecksum();
        const options: InjectOptions = {
          method: route.method as InjectOptions['method'],
          url: route.path,
          query,
          headers: sent,
          ...(route.method === 'POST' || route.method === 'PUT' ? { payload: body } : {}),
        };
        const response = await system.app.inject(options);
        expect(
          response.statusCode,
          `${route.method} ${route.path}: ${response.body.slice(0, 200)}`,
        ).toBeLessThan(500);
        if (response.statusCode >= 400) {
          const error: unknown = response.json();
          expect(error).toEqual({ code: expect.any(String), message: expect.any(String) });
          expect(await booksChecksum()).toBe(before);
        }
      }),
      { numRuns: 400 },
    );
  });
});
