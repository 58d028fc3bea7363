import { randomUUID } from 'node:crypto';
import type { PurchaseRow } from '../db/database.js';
import type { Tx } from '../db/executor.js';
import type { PurchaseStatus, PurchaseReason } from '../domain/purchase.js';
import { toPurchaseView } from '../views/purchase-view.js';
import { waitlistLength } from '../db/waitlist-line.js';
import { purchaseEventType, type EventChangeType, type WebhookEventType } from './event-types.js';

/** A purchase's new status, as a transaction writes it (the worker's round, or the api). */
export interface PurchaseChange {
  readonly purchaseId: string;
  readonly status: Exclude<PurchaseStatus, 'queued'>;
  readonly reason?: PurchaseReason;
  readonly bookingId?: string;
  readonly waitlistPosition?: number;
  /** Held: when the hold runs out. */
  readonly holdExpiresAt?: Date;
  /** A tickets-taking change of a purchase that was waiting in line (confirmed, or held on an event with holds). */
  readonly promoted?: boolean;
  /** A confirmation of a hold the shop was paid for: its tickets were taken when it was held. */
  readonly paidHold?: boolean;
}

/** `data` of an `event.sold_out` message: the event's figures as the change left them. */
export interface SoldOutData {
  readonly eventId: string;
  readonly totalTickets: number;
  readonly soldTickets: number;
  readonly availableTickets: number;
  readonly waitlistCount: number;
}

/** A sale that started: its draw made, with the commitment published before and its entrants. */
export interface SaleStart {
  readonly eventId: string;
  readonly commitment: string;
  readonly entrants: number;
  readonly salesStartAt: Date;
}

/** `data` of an `event.sale_started` message. */
export interface SaleStartedData {
  readonly eventId: string;
  readonly salesStartAt: string;
  readonly commitment: string;
  readonly entrants: number;
}

/**
 * What an operator did to an event's sale, or its end: `data` is the event as the change left it (the
 * api's event view, so a receiver reads the same fields as `GET /events/:id` answers).
 */
export interface EventChange {
  readonly type: EventChangeType;
  readonly eventId: string;
  readonly data: object;
}

/** What a message says, Standard Webhooks' payload shape. */
export interface WebhookPayload<Data = unknown> {
  readonly type: WebhookEventType;
  /** When the change was committed (ISO 8601), the same on every attempt. */
  readonly timestamp: string;
  readonly data: Data;
}

/** What a state change records for webhooks, in the transaction that makes the change. */
export interface OutboxRecorder {
  record(tx: Tx, changes: readonly PurchaseChange[], decidedAt: Date): Promise<void>;
  /** The draws a round made: one `event.sale_started` each. */
  recordSaleStarts?(tx: Tx, starts: readonly SaleStart[], decidedAt: Date): Promise<void>;
  /** What operators did to sales, or their ends: one message each. */
  recordEventChanges?(tx: Tx, changes: readonly EventChange[], at: Date): Promise<void>;
}

/** For callers with no webhooks (tests of the round, tools): records nothing. */
export const NO_OUTBOX: OutboxRecorder = { record: async () => undefined };

/**
 * The transactional outbox. Every state change is written as a message in the same transaction as
 * the change itself, so a message exists exactly when its change committed; a relay turns messages
 * into deliveries after commit (services/worker/src/webhooks). Messages are written only for types
 * some enabled endpoint subscribes to: with no endpoint, `record` returns before any statement, and a
 * round costs what it did before webhooks. With one, it costs a read of the changed purchases (with
 * their events' figures) and a multi-row insert.
 */
export class WebhookOutbox implements OutboxRecorder {
  constructor(private readonly subscriptions: { readonly types: ReadonlySet<WebhookEventType> }) {}

  async record(tx: Tx, changes: readonly PurchaseChange[], decidedAt: Date): Promise<void> {
    const subscribed = this.subscriptions.types;
    if (subscribed.size === 0 || changes.length === 0) return;
    const announced = changes.filter((change) => subscribed.has(purchaseEventType(change)));
    // Only a change that takes tickets (a confirmation or a hold) can take an event's last one.
    const soldOutWatched = subscribed.has('event.sold_out') && changes.some(takesTickets);
    if (announced.length === 0 && !soldOutWatched) return;

    const purchases = await loadChangedPurchases(
      tx,
      (soldOutWatched ? changes : announced).map((change) => change.purchaseId),
      decidedAt,
    );
    const timestamp = decidedAt.toISOString();
    const messages: NewMessage[] = [];
    for (const change of announced) {
      const row = purchases.get(change.purchaseId);
      if (row === undefined) continue;
      const data = toPurchaseView({
        ...row,
        status: change.status,
        reason: change.reason ?? null,
        bookingId: change.bookingId ?? row.bookingId,
        waitlistPosition: change.waitlistPosition ?? null,
        // A paid hold keeps its decision's time; a pre-queue entry is no decision.
        processedAt: change.paidHold === true || change.status === 'prequeued' ? row.processedAt : decidedAt,
      });
      messages.push(
        message(purchaseEventType(change), row.id, { type: purchaseEventType(change), timestamp, data }),
      );
    }
    if (soldOutWatched) {
      for (const soldOut of eventsSoldOut(changes, purchases)) {
        messages.push(
          message('event.sold_out', soldOut.eventId, { type: 'event.sold_out', timestamp, data: soldOut }),
        );
      }
    }
    if (messages.length > 0) await tx.insertInto('webhookMessages').values(messages).execute();
  }

  async recordSaleStarts(tx: Tx, starts: readonly SaleStart[], decidedAt: Date): Promise<void> {
    if (starts.length === 0 || !this.subscriptions.types.has('event.sale_started')) return;
    const timestamp = decidedAt.toISOString();
    const messages = starts.map((start) => {
      const data: SaleStartedData = {
        eventId: start.eventId,
        salesStartAt: start.salesStartAt.toISOString(),
        commitment: start.commitment,
        entrants: start.entrants,
      };
      return message('event.sale_started', start.eventId, { type: 'event.sale_started', timestamp, data });
    });
    await tx.insertInto('webhookMessages').values(messages).execute();
  }

  async recordEventChanges(tx: Tx, changes: readonly EventChange[], at: Date): Promise<void> {
    const subscribed = changes.filter((change) => this.subscriptions.types.has(change.type));
    if (subscribed.length === 0) return;
    const timestamp = at.toISOString();
    await tx
      .insertInto('webhookMessages')
      .values(
        subscribed.map((change) =>
          message(change.type, change.eventId, { type: change.type, timestamp, data: change.data }),
        ),
      )
      .execute();
  }
}

interface NewMessage {
  readonly id: string;
  readonly type: WebhookEventType;
  readonly subjectId: string;
  readonly body: string;
}

/** Message ids are what receivers dedupe on: unique, and free of the `.` the signature scheme joins on. */
const message = (type: WebhookEventType, subjectId: string, payload: WebhookPayload): NewMessage => ({
  id: `msg_${randomUUID().replaceAll('-', '')}`,
  type,
  subjectId,
  body: JSON.stringify(payload),
});

type ChangedPurchase = PurchaseRow & {
  readonly totalTickets: number;
  readonly soldTickets: number;
  readonly heldTickets: number;
  readonly waitlistLength: number;
  /** Tickets of a booking this transaction cancelled. */
  readonly releasedTickets: number | null;
  readonly bookingId: string | null;
  readonly paymentReference: string | null;
};

/**
 * The changed purchases as this transaction left them, with their events' figures and, for a booking
 * this transaction cancelled, the tickets it gave back.
 */
async function loadChangedPurchases(
  tx: Tx,
  purchaseIds: readonly string[],
  decidedAt: Date,
): Promise<Map<string, ChangedPurchase>> {
  const rows = await tx
    .selectFrom('purchases as p')
    .innerJoin('events as e', 'e.id', 'p.eventId')
    .leftJoin('bookings as b', (join) =>
      join.onRef('b.purchaseId', '=', 'p.id').on('b.cancelledAt', '=', decidedAt),
    )
    .leftJoin('bookings as active', (join) =>
      join.onRef('active.purchaseId', '=', 'p.id').on('active.cancelledAt', 'is', null),
    )
    .selectAll('p')
    .select(['e.totalTickets', 'e.soldTickets', 'e.heldTickets', 'b.quantity as releasedTickets'])
    .select(['active.id as bookingId', 'active.paymentReference'])
    .select(waitlistLength('e').as('waitlistLength'))
    .where('p.id', '=', (eb) => eb.fn.any(eb.val([...new Set(purchaseIds)])))
    .execute();
  return new Map(rows.map((row) => [row.id, row]));
}

/**
 * Events this transaction sold out: none available now (sold and held make the total), and some before
 * it. Availability before is now's, plus what the changes took (a confirmation or a hold; a paid hold's
 * tickets were taken when it was held), minus what they gave back (a cancelled booking or hold, an
 * expired hold). So a cancellation whose tickets went straight to the waiting list leaves a sold-out
 * event sold out: no message.
 */
function eventsSoldOut(
  changes: readonly PurchaseChange[],
  purchases: ReadonlyMap<string, ChangedPurchase>,
): SoldOutData[] {
  const events = new Map<string, { row: ChangedPurchase; availableBefore: number }>();
  for (const change of changes) {
    const row = purchases.get(change.purchaseId);
    if (row === undefined) continue;
    const event = events.get(row.eventId) ?? {
      row,
      availableBefore: row.totalTickets - row.soldTickets - row.heldTickets,
    };
    event.availableBefore += ticketsTaken(change, row) - ticketsReturned(change, row);
    events.set(row.eventId, event);
  }
  return [...events]
    .filter(
      ([, { row, availableBefore }]) =>
        row.soldTickets + row.heldTickets === row.totalTickets && availableBefore > 0,
    )
    .map(([eventId, { row }]) => ({
      eventId,
      totalTickets: row.totalTickets,
      soldTickets: row.soldTickets,
      availableTickets: 0,
      waitlistCount: row.waitlistLength,
    }));
}

const takesTickets = (change: PurchaseChange): boolean =>
  change.status === 'held' || (change.status === 'confirmed' && change.paidHold !== true);

const ticketsTaken = (change: PurchaseChange, row: ChangedPurchase): number =>
  takesTickets(change) ? row.quantity : 0;

/** A cancelled booking gives back its tickets, and so does a cancelled or expired hold (it has a hold's end). */
const ticketsReturned = (change: PurchaseChange, row: ChangedPurchase): number => {
  if (change.status === 'expired') return row.quantity;
  if (change.status !== 'cancelled') return 0;
  if (row.releasedTickets !== null) return row.releasedTickets;
  return row.holdExpiresAt !== null ? row.quantity : 0;
};
