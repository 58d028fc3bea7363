import { sql, type KyselyPlugin } from 'kysely';
import { describe, expect, it } from 'vitest';
import {
  NO_OUTBOX,
  WEBHOOK_EVENT_TYPES,
  WebhookOutbox,
  insertAcceptedPurchases,
  insertEvent,
  newPurchaseRow,
  useTestDatabase,
  type OutboxRecorder,
  type WebhookEventType,
} from '@ticketing/shared/testing';
import { applyRound, latestSeq } from '../src/decide/round.js';

const { db } = await useTestDatabase({ poolSize: 4 });
let statements = 0;
/** Counts the statements the rounds send. */
const counting: KyselyPlugin = {
  transformQuery: (args) => {
    statements += 1;
    return args.node;
  },
  transformResult: async (args) => args.result,
};

const subscribedTo = (types: readonly WebhookEventType[]) => new WebhookOutbox({ types: new Set(types) });

/** An event with `totalTickets` and queued purchases of the given users. */
async function sale(totalTickets: number, users: readonly string[]) {
  const event = await insertEvent(db, { totalTickets, priceCents: 500 });
  const purchases = await insertAcceptedPurchases(
    db,
    users.map((user) => newPurchaseRow(event.id, user)),
  );
  return { event, purchases };
}

/** Runs one round over the event, counting its statements. */
async function round(eventId: string, outbox: OutboxRecorder): Promise<number> {
  const upToSeq = await latestSeq(db);
  statements = 0;
  await applyRound(db.withPlugin(counting), [{ eventId, upToSeq }], 100, outbox);
  return statements;
}

const messagesAbout = async (subjectIds: readonly string[]) =>
  (
    await db
      .selectFrom('webhookMessages')
      .select(['id', 'type', 'subjectId', 'body'])
      .where('subjectId', 'in', subjectIds)
      .orderBy('seq')
      .execute()
  ).map((row) => ({
    ...row,
    payload: JSON.parse(row.body) as { type: string; timestamp: string; data: Record<string, unknown> },
  }));

describe('the webhook outbox in a round', () => {
  it('when no endpoint subscribes, then a round sends exactly the statements it sends without webhooks', async () => {
    const without = await sale(2, ['a', 'b', 'c']);
    const baseline = await round(without.event.id, NO_OUTBOX);
    const unsubscribed = await sale(2, ['a', 'b', 'c']);
    expect(await round(unsubscribed.event.id, subscribedTo([]))).toBe(baseline);
    // Subscribed to what this round does not produce: still nothing more.
    const other = await sale(5, ['a']);
    const otherBaseline = await round(other.event.id, NO_OUTBOX);
    const unproduced = await sale(5, ['a']);
    expect(await round(unproduced.event.id, subscribedTo(['purchase.cancelled']))).toBe(otherBaseline);
    // Watching for sold-out events costs a read in a round that confirms, to learn whether it sold out.
    const watched = await sale(5, ['a']);
    expect(await round(watched.event.id, subscribedTo(['event.sold_out']))).toBe(otherBaseline + 1);
    expect(
      await messagesAbout([...unsubscribed.purchases, ...unproduced.purchases].map((p) => p.id)),
    ).toEqual([]);
  });

  it('when endpoints subscribe, then each change is one message in the round, with the purchase as the api shows it', async () => {
    const { event, purchases } = await sale(2, ['a', 'b', 'c']);
    const baseline = await round((await sale(2, ['a', 'b', 'c'])).event.id, NO_OUTBOX);
    // A read of the changed purchases (and their events' figures), and the insert.
    expect(await round(event.id, subscribedTo(WEBHOOK_EVENT_TYPES))).toBe(baseline + 2);
    const messages = await messagesAbout([...purchases.map((p) => p.id), event.id]);
    expect(messages.map((message) => [message.type, message.subjectId])).toEqual([
      ['purchase.confirmed', purchases[0]?.id],
      ['purchase.confirmed', purchases[1]?.id],
      ['purchase.waitlisted', purchases[2]?.id],
      ['event.sold_out', event.id],
    ]);
    const [first] = messages;
    const committed = await db
      .selectFrom('purchases as p')
      .innerJoin('bookings as b', 'b.purchaseId', 'p.id')
      .select(['p.processedAt', 'p.createdAt', 'b.id as bookingId'])
      .where('p.id', '=', purchases[0]?.id ?? '')
      .executeTakeFirstOrThrow();
    expect(first?.payload).toEqual({
      type: 'purchase.confirmed',
      timestamp: committed.processedAt?.toISOString(),
      data: {
        purchaseId: purchases[0]?.id,
        eventId: event.id,
        userId: 'a',
        quantity: 1,
        status: 'confirmed',
        bookingId: committed.bookingId,
        cancellationRequested: false,
        createdAt: committed.createdAt.toISOString(),
        processedAt: committed.processedAt?.toISOString(),
      },
    });
    expect(messages[2]?.payload.data).toMatchObject({ status: 'waitlisted', waitlistPosition: 1 });
    expect(messages[3]?.payload.data).toEqual({
      eventId: event.id,
      totalTickets: 2,
      soldTickets: 2,
      availableTickets: 0,
      waitlistCount: 1,
    });
    expect(new Set(messages.map((message) => message.id)).size).toBe(4);
    expect(messages.every((message) => /^msg_[0-9a-f]{32}$/.test(message.id))).toBe(true);
  });

  it('when a cancellation hands its ticket to the waiting list, then it is cancelled and promoted, and not sold out again', async () => {
    const { event, purchases } = await sale(1, ['a', 'b']);
    const outbox = subscribedTo(WEBHOOK_EVENT_TYPES);
    await round(event.id, outbox);
    const [holder, waiting] = purchases;
    // As the api requests a cancellation: its place in line from the purchase sequence.
    await sql`update purchases set cancel_requested_at = now(), cancel_seq = nextval('purchases_seq_seq')
      where id = ${holder?.id}`.execute(db);
    await round(event.id, outbox);
    const messages = await messagesAbout([...purchases.map((p) => p.id), event.id]);
    expect(messages.map((message) => [message.type, message.subjectId])).toEqual([
      ['purchase.confirmed', holder?.id],
      ['purchase.waitlisted', waiting?.id],
      ['event.sold_out', event.id],
      ['purchase.cancelled', holder?.id],
      ['purchase.promoted', waiting?.id],
    ]);
    expect(messages[4]?.payload.data).toMatchObject({ status: 'confirmed', bookingId: expect.any(String) });
    expect(messages[3]?.payload.data).toMatchObject({ status: 'cancelled', cancellationRequested: true });
  });

  it('when the round fails after recording, then neither its changes nor its messages exist', async () => {
    const { event, purchases } = await sale(3, ['a']);
    const failing: OutboxRecorder = {
      async record(tx, changes, decidedAt) {
        await subscribedTo(WEBHOOK_EVENT_TYPES).record(tx, changes, decidedAt);
        throw new Error('crash after the outbox write');
      },
    };
    await expect(round(event.id, failing)).rejects.toThrow('crash after the outbox write');
    expect(await messagesAbout(purchases.map((p) => p.id))).toEqual([]);
    const [purchase] = await db
      .selectFrom('purchases')
      .select('status')
      .where('eventId', '=', event.id)
      .execute();
    expect(purchase?.status).toBe('queued');
  });
});
