import {
  AppError,
  checkResize,
  checkSaleOperation,
  conflict,
  encodeWorkInPostgres,
  lockEventForOperation,
  notFound,
  pauseSale,
  pendingEventsChannel,
  requestClose,
  requestEventCancellation,
  requestResize,
  resumeSale,
  updateEventTerms,
  type EventChangeType,
  type EventTermsChange,
  type LockedEvent,
  type SaleOperation,
  type Tx,
} from '@ticketing/shared';
import type { AppDeps } from '../app-types.js';
import { findEvent } from './events.repository.js';
import type { UpdateEventInput } from './events.schemas.js';
import { toEventView } from './event-view.js';
import type { EventView } from './events.schemas.js';

/** What an operator asks of a sale by its own route (the edit is `PATCH /events/:id`). */
export type SaleCommand =
  | { readonly operation: 'pause' }
  | { readonly operation: 'resume' }
  | { readonly operation: 'close' }
  | { readonly operation: 'cancel'; readonly reason: string };

/** An operation's answer: the event as it left it, and whether a cancellation is still being carried out. */
export interface SaleOperationResult {
  readonly event: EventView;
  readonly inProgress: boolean;
}

const WEBHOOK_OF: Record<SaleCommand['operation'], EventChangeType | undefined> = {
  pause: 'event.paused',
  resume: 'event.resumed',
  // `event.ended` is the worker's, once the close's turn in the queue comes.
  close: undefined,
  cancel: 'event.cancelled',
};

/**
 * Pause, resume, close or cancel (docs/running-a-sale.md): under the event's accepting lock and row
 * lock, the domain says whether the operation applies, repeats one already done (answered the same,
 * so retries are safe) or is refused; what applies is written with its webhook message in the same
 * transaction. Then the workers are woken (a resume, close or cancellation gives them work) and the
 * api processes forget the event's cached terms.
 */
export async function runSaleCommand(deps: AppDeps, eventId: string, command: SaleCommand) {
  const changed = await deps.db.transaction().execute(async (tx) => {
    const event = await lockEvent(tx, eventId);
    const verdict = checkSaleOperation(event, event.dbNow, command.operation);
    if (verdict.kind === 'refused') throw conflict(verdict.code, verdict.message);
    if (verdict.kind === 'repeat') return false;
    switch (command.operation) {
      case 'pause':
        await pauseSale(tx, eventId);
        break;
      case 'resume':
        await resumeSale(tx, eventId);
        break;
      case 'close':
        await requestClose(tx, eventId);
        break;
      case 'cancel':
        await requestEventCancellation(tx, eventId, command.reason);
        break;
    }
    await recordChange(deps, tx, eventId, WEBHOOK_OF[command.operation]);
    return true;
  });
  if (changed) await announce(deps, eventId, command.operation !== 'pause');
  return readResult(deps, eventId);
}

/**
 * `PATCH /events/:id`: the terms change at once (for what is accepted or decided after), a new total
 * takes its place in the queue as a resize. A request that changes nothing is a repeat.
 */
export async function updateEvent(deps: AppDeps, eventId: string, input: UpdateEventInput) {
  const changed = await deps.db.transaction().execute(async (tx) => {
    const event = await lockEvent(tx, eventId);
    const terms = termsChange(event, input);
    const resize = resizeOf(event, input.totalTickets);
    // A request that changes nothing is still refused where an edit would be (a cancelled event).
    for (const operation of operationsOf(terms, resize)) {
      const verdict = checkSaleOperation(event, event.dbNow, operation);
      if (verdict.kind === 'refused') throw conflict(verdict.code, verdict.message);
    }
    if (resize !== undefined) {
      const refusal = checkResize(event, resize);
      if (refusal !== undefined) throw conflict(refusal.code, refusal.message);
    }
    if (Object.keys(terms).length === 0 && resize === undefined) return false;
    await updateEventTerms(tx, eventId, terms);
    if (resize !== undefined) await requestResize(tx, eventId, resize);
    await recordChange(deps, tx, eventId, 'event.updated');
    return true;
  });
  if (changed) await announce(deps, eventId, input.totalTickets !== undefined);
  return (await readResult(deps, eventId)).event;
}

async function lockEvent(tx: Tx, eventId: string): Promise<LockedEvent> {
  const event = await lockEventForOperation(tx, eventId);
  if (event === undefined) throw notFound('Event');
  return event;
}

/**
 * The terms of the request that differ from the event's, checked: holds cannot be switched on or off
 * (holds already given would lose their expiry), and a new end must be after now and after the start.
 */
function termsChange(event: LockedEvent, input: UpdateEventInput): EventTermsChange {
  const change: { -readonly [K in keyof EventTermsChange]: EventTermsChange[K] } = {};
  if (input.name !== undefined && input.name !== event.name) change.name = input.name;
  if (input.priceCents !== undefined && input.priceCents !== event.priceCents)
    change.priceCents = input.priceCents;
  if (input.maxPerPurchase !== undefined && input.maxPerPurchase !== event.maxPerPurchase)
    change.maxPerPurchase = input.maxPerPurchase;
  if (input.holdSeconds !== undefined && input.holdSeconds !== event.holdSeconds) {
    if ((input.holdSeconds === 0) !== (event.holdSeconds === 0))
      throw new AppError(
        422,
        'invalid_hold_seconds',
        event.holdSeconds === 0
          ? 'This event confirms purchases at once: holdSeconds cannot become more than 0'
          : 'This event holds tickets for payment: holdSeconds cannot become 0',
      );
    change.holdSeconds = input.holdSeconds;
  }
  if (input.salesEndAt !== undefined) {
    const end = new Date(input.salesEndAt);
    if (Number.isNaN(end.getTime()))
      throw new AppError(422, 'invalid_sale_window', 'salesEndAt is not a valid ISO 8601 date-time');
    if (end.getTime() !== event.salesEndAt?.getTime()) {
      if (end <= event.dbNow)
        throw new AppError(422, 'invalid_sale_window', 'salesEndAt must be in the future');
      if (event.salesStartAt !== null && end <= event.salesStartAt)
        throw new AppError(422, 'invalid_sale_window', 'salesEndAt must be after salesStartAt');
      change.salesEndAt = end;
    }
  }
  return change;
}

/** The new total asked for, unless it is what the event has or is already becoming. */
function resizeOf(event: LockedEvent, totalTickets: number | undefined): number | undefined {
  if (totalTickets === undefined) return undefined;
  const becoming = event.pendingTotalTickets ?? event.totalTickets;
  return totalTickets === becoming ? undefined : totalTickets;
}

function operationsOf(terms: EventTermsChange, resize: number | undefined): SaleOperation[] {
  const operations: SaleOperation[] = [];
  const { salesEndAt, ...edits } = terms;
  if (Object.keys(edits).length > 0) operations.push('edit');
  if (salesEndAt !== undefined) operations.push('reschedule');
  if (resize !== undefined) operations.push('resize');
  return operations.length > 0 ? operations : ['edit'];
}

/** The event's webhook message, with the event as this transaction leaves it. */
async function recordChange(
  deps: AppDeps,
  tx: Tx,
  eventId: string,
  type: EventChangeType | undefined,
): Promise<void> {
  if (type === undefined || deps.outbox.recordEventChanges === undefined) return;
  const event = await findEvent(tx, eventId);
  if (event === undefined) return;
  await deps.outbox.recordEventChanges(tx, [{ type, eventId, data: toEventView(event) }], event.dbNow);
}

/** After the commit: the terms are forgotten everywhere, and the workers woken when there is work. */
async function announce(deps: AppDeps, eventId: string, wakeWorkers: boolean): Promise<void> {
  await deps.events.changed(eventId);
  if (wakeWorkers)
    await deps.redis
      .publish(pendingEventsChannel(deps.config.queuePrefix), encodeWorkInPostgres([eventId]))
      .catch(() => undefined);
}

async function readResult(deps: AppDeps, eventId: string): Promise<SaleOperationResult> {
  const event = await findEvent(deps.db, eventId);
  if (event === undefined) throw notFound('Event');
  return {
    event: toEventView(event),
    inProgress: event.cancelledAt !== null && event.cancellationFinishedAt === null,
  };
}
