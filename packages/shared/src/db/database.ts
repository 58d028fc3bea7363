import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';
import type { PurchaseStatus, RejectionReason } from '../domain/purchase.js';

/** Columns are snake_case in Postgres and camelCase here (Kysely's CamelCasePlugin maps them). */
export interface Database {
  events: EventsTable;
  purchases: PurchasesTable;
  bookings: BookingsTable;
  waitlistEntries: WaitlistEntriesTable;
  waitlistDepartures: WaitlistDeparturesTable;
}

type CreatedAt = ColumnType<Date, Date | undefined, never>;

export interface EventsTable {
  id: Generated<string>;
  name: string;
  totalTickets: number;
  soldTickets: Generated<number>;
  priceCents: number;
  currency: string;
  maxPerPurchase: number;
  createdAt: CreatedAt;
  /** The last waiting-list line number given out (see migration 0005). */
  waitlistTail: Generated<number>;
  /** Every waiting-list entry with a line number up to here has left the line (promoted or departed). */
  waitlistHead: Generated<number>;
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
  reason: RejectionReason | null;
  idempotencyKey: string | null;
  cancelRequestedAt: Date | null;
  /** A cancellation's place in the event's queue: drawn from the same sequence as `seq`. */
  cancelSeq: number | null;
  createdAt: CreatedAt;
  processedAt: Date | null;
}

export interface BookingsTable {
  id: Generated<string>;
  purchaseId: string;
  eventId: string;
  userId: string;
  quantity: number;
  unitPriceCents: number;
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

/** Entries that left the middle of a line, until its head passes them (they still count as ahead). */
export interface WaitlistDeparturesTable {
  eventId: string;
  lineNo: number;
}

export type EventRow = Selectable<EventsTable>;
export type PurchaseRow = Selectable<PurchasesTable>;
export type NewPurchaseRow = Insertable<PurchasesTable>;
export type BookingRow = Selectable<BookingsTable>;
