import { AppError, type Db } from '@ticketing/shared';
import { findEvent, listEvents, type EventRowAt } from './events.repository.js';
import { DEFAULT_PAGE_SIZE } from './events.schemas.js';

/**
 * One page of events in creation order, for every list of events (`GET /events`, `GET
 * /reports/events`): at most `limit`, after the event the cursor names, and the cursor of the next
 * page (null on the last). A cursor that names no event is the client's error.
 */
export async function pageOfEvents(
  db: Db,
  query: { limit?: number; cursor?: string },
): Promise<{ rows: EventRowAt[]; nextCursor: string | null }> {
  const limit = query.limit ?? DEFAULT_PAGE_SIZE;
  const { cursor } = query;
  if (cursor !== undefined && (await findEvent(db, cursor)) === undefined) {
    throw new AppError(400, 'invalid_cursor', 'The cursor does not point at a known event');
  }
  // One more than the page: whether there is a next page, without counting the rest.
  const rows = await listEvents(db, {
    limit: limit + 1,
    ...(cursor !== undefined ? { afterId: cursor } : {}),
  });
  const page = rows.slice(0, limit);
  return { rows: page, nextCursor: rows.length > limit ? (page.at(-1)?.id ?? null) : null };
}
