import { describe, expect, it } from 'vitest';
import { httpHelpers } from './support/http.js';
import { useTestSystem } from './support/test-system.js';

const system = await useTestSystem();
const { inject, createEvent, buy, cancel, poll } = httpHelpers(() => system);
const positionOf = async (purchaseId: string) => (await poll(purchaseId)).waitlistPosition;
const departures = async (eventId: string) =>
  (
    await system.deps.db
      .selectFrom('waitlistDepartures')
      .select('lineNo')
      .where('eventId', '=', eventId)
      .orderBy('lineNo')
      .execute()
  ).map((row) => row.lineNo);
const counts = async (eventId: string) => {
  const [status, report] = await Promise.all([
    inject({ method: 'GET', url: `/events/${eventId}/status` }),
    inject({ method: 'GET', url: `/events/${eventId}/report` }),
  ]);
  return { status: status.json().waitlistCount, report: report.json().waitlisted };
};

describe('waiting-list positions from line numbers', () => {
  it('when buyers leave the middle of the line and the head is promoted past them, then every position stays exact', async () => {
    const event = await createEvent({ totalTickets: 1 });
    const holder = await buy(event.id, { userId: 'holder' });
    const waiting = [];
    for (let index = 1; index <= 6; index += 1) waiting.push(await buy(event.id, { userId: `w${index}` }));
    expect(waiting.map((purchase) => purchase.waitlistPosition)).toEqual([1, 2, 3, 4, 5, 6]);
    const [w1, w2, w3, w4, w5, w6] = waiting.map((purchase) => purchase.purchaseId) as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];

    // Two leave from the middle: those behind them move up; the line numbers they held are departures.
    await cancel(w2);
    await cancel(w4);
    expect(await Promise.all([w1, w3, w5, w6].map(positionOf))).toEqual([1, 2, 3, 4]);
    expect(await departures(event.id)).toEqual([2, 4]);
    expect(await counts(event.id)).toEqual({ status: 4, report: 4 });

    // The holder's ticket goes to the head (line number 1); the departures behind it still count.
    await cancel(holder.purchaseId);
    expect(await poll(w1)).toMatchObject({ status: 'confirmed' });
    expect(await Promise.all([w3, w5, w6].map(positionOf))).toEqual([1, 2, 3]);

    // The next promotion passes line number 2: that departure is forgotten, the one at 4 is not.
    await cancel(w1);
    expect(await poll(w3)).toMatchObject({ status: 'confirmed' });
    expect(await Promise.all([w5, w6].map(positionOf))).toEqual([1, 2]);
    expect(await departures(event.id)).toEqual([4]);
    expect(await counts(event.id)).toEqual({ status: 2, report: 2 });

    // New buyers join behind the tail.
    const late = await buy(event.id, { userId: 'late' });
    expect(late).toMatchObject({ status: 'waitlisted', waitlistPosition: 3 });
    const row = await system.deps.db
      .selectFrom('events')
      .select(['waitlistHead', 'waitlistTail'])
      .where('id', '=', event.id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ waitlistHead: 3, waitlistTail: 7 });
  });
});
