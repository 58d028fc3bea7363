import type { Kysely } from 'kysely';
import type { Database } from '../db/database.js';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from './event-types.js';

/** How stale a process's view of the endpoints may get: a new endpoint is served within this. */
export const WEBHOOK_SUBSCRIPTIONS_REFRESH_MS = 1_000;

/**
 * The event types some enabled endpoint subscribes to, as this process last read them. The outbox
 * asks it before writing anything, so while no endpoint listens a round pays nothing for webhooks.
 * Re-read every second (one small query, outside any round), so an endpoint registered, disabled or
 * deleted takes effect in every process within that.
 */
export class WebhookSubscriptions {
  private current: ReadonlySet<WebhookEventType> = new Set();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  get types(): ReadonlySet<WebhookEventType> {
    return this.current;
  }

  async refresh(): Promise<void> {
    const endpoints = await this.db
      .selectFrom('webhookEndpoints')
      .select('events')
      .where('disabledAt', 'is', null)
      .execute();
    const types = new Set<WebhookEventType>();
    for (const { events } of endpoints) {
      for (const type of events ?? WEBHOOK_EVENT_TYPES) types.add(type as WebhookEventType);
    }
    this.current = types;
  }

  /** Reads the endpoints now, then keeps re-reading them until `stop`. */
  async start(): Promise<void> {
    await this.refresh();
    let refreshing = false;
    this.timer = setInterval(() => {
      if (refreshing) return;
      refreshing = true;
      this.refresh()
        .catch(this.onError)
        .finally(() => {
          refreshing = false;
        });
    }, WEBHOOK_SUBSCRIPTIONS_REFRESH_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
