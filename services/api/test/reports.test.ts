import { describe, expect, it } from 'vitest';
import { httpHelpers } from './support/http.js';
import { useTestSystem } from './support/test-system.js';

const system = await useTestSystem();
const { inject, createEvent, buy } = httpHelpers(() => system);

interface ReportPage {
  items: { eventId: string; ticketsSold: number; revenueCents: number }[];
  nextCursor: string | null;
}

async function reportPage(query: string): Promise<ReportPage> {
  const response = await inject({ method: 'GET', url: `/reports/events${query}` });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<ReportPage>();
}

async function allEventIds(): Promise<string[]> {
  const rows = await system.deps.db
    .selectFrom('events')
    .select('id')
    .orderBy('createdAt')
    .orderBy('id')
    .execute();
  return rows.map((row) => row.id);
}

describe('sales reports, a page at a time', () => {
  it('when the reports are read page by page, then every event appears exactly once, in creation order, with its own sales', async () => {
    const created: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      const event = await createEvent({ name: `Report ${index}`, totalTickets: 10, priceCents: 1000 });
      await buy(event.id, { userId: `r-${index}`, quantity: index + 1 });
      created.push(event.id);
    }
    const seen: ReportPage['items'] = [];
    let cursor: string | null = null;
    do {
      const page: ReportPage = await reportPage(cursor === null ? '?limit=2' : `?limit=2&cursor=${cursor}`);
      expect(page.items.length).toBeLessThanOrEqual(2);
      // A page that says there is more is full.
      if (page.nextCursor !== null) {
        expect(page.items).toHaveLength(2);
        expect(page.nextCursor).toBe(page.items.at(-1)?.eventId);
      }
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null);

    expect(seen.map((report) => report.eventId)).toEqual(await allEventIds());
    for (const [index, id] of created.entries()) {
      expect(seen.find((report) => report.eventId === id)).toMatchObject({
        ticketsSold: index + 1,
        revenueCents: (index + 1) * 1000,
      });
    }
  });

  it('when no limit is given, then a page holds 20 reports; at most 100 may be asked for', async () => {
    while ((await allEventIds()).length < 21) await createEvent();
    const first = await reportPage('');
    expect(first.items).toHaveLength(20);
    expect(first.nextCursor).toBe(first.items.at(-1)?.eventId);
    const ids = await allEventIds();
    expect(first.items.map((report) => report.eventId)).toEqual(ids.slice(0, 20));

    const widest = await reportPage('?limit=100');
    expect(widest.items.map((report) => report.eventId)).toEqual(ids.slice(0, 100));
    expect(widest.nextCursor).toBe(ids.length > 100 ? ids[99] : null);
  });

  it.each([
    ['a limit of zero', '?limit=0', 'invalid_request'],
    ['a limit over 100', '?limit=101', 'invalid_request'],
    ['a malformed cursor', '?cursor=abc', 'invalid_request'],
    ['a cursor of no event', '?cursor=00000000-0000-4000-8000-000000000000', 'invalid_cursor'],
    ['an unknown parameter', '?sort=name', 'invalid_request'],
  ])('when the query has %s, then it is a 400 with its code', async (_name, query, code) => {
    const response = await inject({ method: 'GET', url: `/reports/events${query}` });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code, message: expect.any(String) });
  });
});
