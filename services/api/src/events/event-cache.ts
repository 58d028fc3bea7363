import type { Database, EventRow } from '@ticketing/shared';
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
 * What a purchase needs to know of its event (that it exists, its per-purchase limit, its sale window
 * and draw seed) never changes once the event is created, so the purchase path reads it from memory
 * after the first time.
 */
export class EventCache {
  private readonly terms = new Map<string, EventTerms>();

  constructor(private readonly db: Kysely<Database>) {}

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
    this.terms.set(event.id, terms);
    return terms;
  }

  async get(eventId: string): Promise<EventTerms | undefined> {
    const cached = this.terms.get(eventId);
    if (cached !== undefined) return cached;
    const event = await findEvent(this.db, eventId);
    return event === undefined ? undefined : this.remember(event);
  }
}
