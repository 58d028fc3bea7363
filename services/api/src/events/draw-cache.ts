import { AppError, notFound, type Database } from '@ticketing/shared';
import type { Kysely } from 'kysely';
import { findEvent, listDrawKeys } from './events.repository.js';
import type { EventDraw } from './events.schemas.js';

/** Draws kept in memory once made: every buyer of a big on-sale reads the same keys. */
const CACHED_DRAWS = 16;

const MAX_FINISHED = 20_000;

/**
 * The event's draw: its commitment from creation, and once the draw is made (a worker took it at the
 * start, under the accepting lock, so no entrant can still arrive) the seed, the entrant count and every
 * entrant's key in drawn order. An event without a sale start has no draw: 404 `no_draw`.
 */
export async function loadEventDraw(db: Kysely<Database>, eventId: string): Promise<EventDraw> {
  const event = await findEvent(db, eventId);
  if (event === undefined) throw notFound('Event');
  if (event.salesStartAt === null || event.drawCommitment === null || event.drawSeed === null)
    throw new AppError(404, 'no_draw', 'This event has no sale start, so no draw');
  const base = {
    eventId,
    commitment: event.drawCommitment,
    salesStartAt: event.salesStartAt.toISOString(),
  };
  if (event.drawnAt === null) return { ...base, drawn: false };
  const keys = await listDrawKeys(db, eventId);
  return {
    ...base,
    drawn: true,
    seed: event.drawSeed.toString('hex'),
    entrants: event.drawEntrants ?? keys.length,
    keys,
  };
}

/**
 * Draws once made, shared by `GET /events/:id/draw` and the queue positions of an on-sale (which
 * binary-search the keys). A draw never changes once made (its entrants are fixed under the accepting
 * lock at the start), so it is read once per process; concurrent first reads share one, since at the
 * start every waiting buyer polls at once.
 */
export class DrawCache {
  private readonly made = new Map<string, EventDraw>();
  private readonly loading = new Map<string, Promise<EventDraw>>();
  /** Events whose draw is all decided: their queue goes on by `seq` alone, as without an on-sale. */
  private readonly finished = new Set<string>();

  constructor(private readonly db: Kysely<Database>) {}

  async get(eventId: string): Promise<EventDraw> {
    const cached = this.made.get(eventId);
    if (cached !== undefined) return cached;
    const inFlight = this.loading.get(eventId);
    if (inFlight !== undefined) return inFlight;
    const load = loadEventDraw(this.db, eventId)
      .then((draw) => {
        if (draw.drawn) {
          if (this.made.size >= CACHED_DRAWS) this.made.delete(this.made.keys().next().value ?? '');
          this.made.set(eventId, draw);
        }
        return draw;
      })
      .finally(() => this.loading.delete(eventId));
    this.loading.set(eventId, load);
    return load;
  }

  isFinished(eventId: string): boolean {
    return this.finished.has(eventId);
  }

  markFinished(eventId: string): void {
    if (this.finished.size >= MAX_FINISHED) this.finished.delete(this.finished.values().next().value ?? '');
    this.finished.add(eventId);
  }
}
