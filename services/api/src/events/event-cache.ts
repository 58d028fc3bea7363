import type { Database, EventRow, RedisClient } from '@ticketing/shared';
import type { Kysely } from 'kysely';
import { findEvent } from './events.repository.js';

export interface EventTerms {
  readonly id: string;
  readonly maxPerPurchase: number;
  /** The sale window; the api only reports it, Postgres's clock judges it when a purchase is stored. */
  readonly salesStartAt: Date | null;
  readonly preQueueOpensAt: Date | null;
  /** The draw's secret seed (events with a sale start), for the draw keys of pre-queued purchases. */
  readonly drawSeed: Buffer | null;
}

const MAX_CACHED = 20_000;

/**
 * How long terms are trusted without hearing of a change: an announcement lost (Redis away) delays a
 * change this long at most.
 */
const TERMS_TTL_MS = 10_000;

/** Where an api process announces that it changed an event's terms (`PATCH /events/:id`, a close). */
export const eventChangesChannel = (prefix: string): string => `${prefix}:events:changed`;

/**
 * What a purchase needs to know of its event (that it exists, its per-purchase limit, its sale window
 * and draw seed), read from memory after the first time. An operator may change the limit (and a close
 * moves the window): the process that changes an event forgets it and announces the change, and every
 * api process forgets it on the announcement, so a request accepted after the change sees the new terms.
 * Postgres stays the authority on what the insert judges (the window, a cancellation); the limit is the
 * one term only the cache carries.
 */
export class EventCache {
  private readonly terms = new Map<string, { terms: EventTerms; until: number }>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly announce: (eventId: string) => Promise<unknown> = async () => undefined,
  ) {}

  /** Forgets the events announced on `subscriber` (a connection in subscriber mode) from now on. */
  async listen(subscriber: RedisClient, prefix: string): Promise<void> {
    const channel = eventChangesChannel(prefix);
    subscriber.on('message', (from: string, eventId: string) => {
      if (from === channel) this.terms.delete(eventId);
    });
    await subscriber.subscribe(channel);
  }

  remember(event: EventRow): EventTerms {
    if (this.terms.size >= MAX_CACHED) {
      const oldest = this.terms.keys().next();
      if (oldest.done !== true) this.terms.delete(oldest.value);
    }
    const terms = {
      id: event.id,
      maxPerPurchase: event.maxPerPurchase,
      salesStartAt: event.salesStartAt,
      preQueueOpensAt: event.preQueueOpensAt,
      drawSeed: event.drawSeed,
    };
    this.terms.set(event.id, { terms, until: Date.now() + TERMS_TTL_MS });
    return terms;
  }

  async get(eventId: string): Promise<EventTerms | undefined> {
    const cached = this.terms.get(eventId);
    if (cached !== undefined && cached.until > Date.now()) return cached.terms;
    const event = await findEvent(this.db, eventId);
    return event === undefined ? undefined : this.remember(event);
  }

  /** An event's terms changed (committed): forget them here and tell the other api processes. */
  async changed(eventId: string): Promise<void> {
    this.terms.delete(eventId);
    await this.announce(eventId).catch(() => undefined);
  }
}
