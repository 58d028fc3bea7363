import {
  entrantsAhead,
  entrantsUndecided,
  readDrawPosition,
  readQueuePosition,
  type Config,
  type Database,
  type PurchaseViewRow,
  type QueuePosition,
  type RedisClient,
} from '@ticketing/shared';
import type { Kysely } from 'kysely';
import type { DrawCache } from '../events/draw-cache.js';
import type { EventCache } from '../events/event-cache.js';
import { findDrawProgress } from '../events/events.repository.js';
import type { PurchaseBatching } from './purchase-batching.js';

export interface QueuePositionDeps {
  readonly config: Pick<Config, 'queuePrefix'>;
  readonly db: Kysely<Database>;
  readonly redis: RedisClient;
  readonly events: EventCache;
  readonly draws: DrawCache;
  readonly purchases: Pick<PurchaseBatching, 'loadView'>;
}

export interface PositionedPurchase {
  /** The purchase to answer: the one given, or re-read if the draw decided it meanwhile. */
  readonly row: PurchaseViewRow;
  readonly position?: QueuePosition;
}

/**
 * An undecided purchase's place in its event's line. Without an on-sale, the purchases ahead in the
 * queue (a ZCOUNT). With one, every entrant of the draw still undecided comes first: they are the
 * draw's keys after the event's cursor (the last key decided, committed with the decisions), so an
 * entrant has the keys in (cursor, its own key) ahead, and a purchase after the start all of the keys
 * after the cursor plus the queue's ZCOUNT. The keys are the draw's, read once per process; the cursor
 * is a primary-key read per poll, until the draw is all decided. Before the draw is made (up to the
 * start, and the second after it until a worker makes it) there is no place to give.
 */
export async function positionOf(deps: QueuePositionDeps, row: PurchaseViewRow): Promise<PositionedPurchase> {
  if (row.status !== 'queued' && row.status !== 'prequeued') return { row };
  const queue = (entrants = 0) => readQueuePosition(deps.redis, deps.config.queuePrefix, row, entrants);
  const terms = await deps.events.get(row.eventId);
  if (terms === undefined) return { row };
  if (terms.salesStartAt === null || (row.status === 'queued' && deps.draws.isFinished(row.eventId)))
    return row.status === 'queued' ? { row, position: await queue() } : { row };

  const progress = await findDrawProgress(deps.db, row.eventId);
  if (progress === undefined || progress.drawnAt === null) return { row };
  if (progress.drawFinishedAt !== null) deps.draws.markFinished(row.eventId);
  const draw = progress.drawFinishedAt === null ? await deps.draws.get(row.eventId) : undefined;
  const keys = draw?.keys ?? [];
  if (row.status === 'queued')
    return { row, position: await queue(entrantsUndecided(keys, progress.drawCursor)) };

  const ahead =
    row.drawKey === null || progress.drawFinishedAt !== null
      ? undefined
      : entrantsAhead(keys, progress.drawCursor, row.drawKey);
  // The row was read before the cursor: if the cursor is past it, it was decided in between.
  if (ahead === undefined) return { row: (await deps.purchases.loadView(row.id)) ?? row };
  return { row, position: await readDrawPosition(deps.redis, deps.config.queuePrefix, row.eventId, ahead) };
}
