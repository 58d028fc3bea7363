import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';
import type { PurchaseReason, PurchaseStatus } from '../domain/purchase.js';

/** Columns are snake_case in Postgres and camelCase here (Kysely's CamelCasePlugin maps them). */
export interface Database {
  events: EventsTable;
  eventResizes: EventResizesTable;
  purchases: PurchasesTable;
  bookings: BookingsTable;
  waitlistEntries: WaitlistEntriesTable;
  waitlistDepartures: WaitlistDeparturesTable;
  webhookEndpoints: WebhookEndpointsTable;
  webhookMessages: WebhookMessagesTable;
  webhookDeliveries: WebhookDeliveriesTable;
  webhookAttempts: WebhookAttemptsTable;
}

type CreatedAt = ColumnType<Date, Date | undefined, never>;

export interface EventsTable {
  id: Generated<string>;
  name: string;
  totalTickets: number;
  soldTickets: Generated<number>;
  /** Tickets held for purchases awaiting payment; `sold + held <= total` is a CHECK. */
  heldTickets: Generated<number>;
  priceCents: number;
  currency: string;
  maxPerPurchase: number;
  /** How long a purchase that gets tickets is held for payment; 0 = confirmed at once. Never changes. */
  holdSeconds: Generated<number>;
  createdAt: CreatedAt;
  /** The last waiting-list line number given out (see migration 0004). */
  waitlistTail: Generated<number>;
  /** Every waiting-list entry with a line number up to here has left the line (promoted or departed). */
  waitlistHead: Generated<number>;
  /** The sale window (docs/on-sale.md); without a start, on sale from creation. Never changes. */
  salesStartAt: Date | null;
  salesEndAt: Date | null;
  preQueueOpensAt: Date | null;
  /** The draw's secret seed, set with the start; shown only once the draw is made. */
  drawSeed: Buffer | null;
  /** Hex SHA-256 of the seed, public from creation. */
  drawCommitment: string | null;
  /** When the draw was made (the pre-queue closed, the seed revealed), and with how many entrants. */
  drawnAt: Date | null;
  drawEntrants: number | null;
  /** The last draw key decided: the next round of the pre-queue starts after it. */
  drawCursor: string | null;
  /** Every entrant of the draw is decided. */
  drawFinishedAt: Date | null;
  /** Paused since (docs/running-a-sale.md): purchases are accepted, nothing is decided. */
  pausedAt: Date | null;
  /** The close's place in the event's queue, taken once the end has come (by a close or by the time). */
  closeSeq: number | null;
  /** The close was carried out: the waiting list is closed. */
  closedAt: Date | null;
  /** Cancelled for good, and why; every purchase ends `cancelled` with reason `event_cancelled`. */
  cancelledAt: Date | null;
  cancellationReason: string | null;
  /** The cancellation has cancelled every purchase up to this `seq`. */
  cancellationCursor: Generated<number>;
  cancellationFinishedAt: Date | null;
}

/** A change of an event's `totalTickets`, carried out at its place in the event's queue. */
export interface EventResizesTable {
  /** Its place in the queue: a number from the purchase sequence. */
  seq: number;
  eventId: string;
  totalTickets: number;
  requestedAt: CreatedAt;
  appliedAt: Date | null;
  /** The total it gave: the request, or sold + held then if more were taken since it was asked. */
  appliedTotal: number | null;
}

export interface PurchasesTable {
  id: string;
  /** The order in which Postgres accepted purchases: the queue order the worker honours per event. */
  seq: Generated<number>;
  eventId: string;
  userId: string;
  quantity: number;
  joinWaitlist: boolean;
  status: Generated<PurchaseStatus>;
  reason: PurchaseReason | null;
  idempotencyKey: string | null;
  cancelRequestedAt: Date | null;
  /** A cancellation's place in the event's queue: drawn from the same sequence as `seq`. */
  cancelSeq: number | null;
  /** While `held`: when the hold runs out, by the database's clock. Kept afterwards. */
  holdExpiresAt: Date | null;
  /** A hold's expiry's place in the event's queue: drawn from the same sequence as `seq`. */
  expireSeq: number | null;
  createdAt: CreatedAt;
  processedAt: Date | null;
  /** A pre-queue entrant's draw key (hex HMAC-SHA256 of the seed and the id); null otherwise. */
  drawKey: string | null;
}

export interface BookingsTable {
  id: Generated<string>;
  purchaseId: string;
  eventId: string;
  userId: string;
  quantity: number;
  unitPriceCents: number;
  /** The shop's reference of the payment that confirmed a hold. */
  paymentReference: string | null;
  createdAt: CreatedAt;
  cancelledAt: Date | null;
}

export interface WaitlistEntriesTable {
  purchaseId: string;
  eventId: string;
  /** The entry's number in its event's line, given when it joined (dense per event, from 1). */
  lineNo: number;
  quantity: number;
  createdAt: CreatedAt;
}

export interface WebhookEndpointsTable {
  id: string;
  url: string;
  description: string | null;
  /** Null: every type, including those added later. */
  events: string[] | null;
  secret: string;
  createdAt: CreatedAt;
  failingSince: Date | null;
  disabledAt: Date | null;
  disabledReason: string | null;
}

export interface WebhookMessagesTable {
  seq: Generated<number>;
  id: string;
  type: string;
  subjectId: string;
  body: string;
  createdAt: CreatedAt;
  relayedAt: Date | null;
}

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed' | 'abandoned';

export interface WebhookDeliveriesTable {
  endpointId: string;
  messageSeq: number;
  subjectId: string;
  status: Generated<WebhookDeliveryStatus>;
  attempts: Generated<number>;
  firstAttemptAt: Date | null;
  nextAttemptAt: Generated<Date>;
  completedAt: Date | null;
}

export interface WebhookAttemptsTable {
  id: Generated<number>;
  endpointId: string;
  messageSeq: number;
  attemptedAt: CreatedAt;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/** Entries that left the middle of a line, until its head passes them (they still count as ahead). */
export interface WaitlistDeparturesTable {
  eventId: string;
  lineNo: number;
}

export type EventRow = Selectable<EventsTable>;
export type PurchaseRow = Selectable<PurchasesTable>;
export type NewPurchaseRow = Insertable<PurchasesTable>;
export type BookingRow = Selectable<BookingsTable>;
export type WebhookEndpointRow = Selectable<WebhookEndpointsTable>;
