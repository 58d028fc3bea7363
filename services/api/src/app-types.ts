import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type {
  Config,
  Database,
  EventQueues,
  OutboxRecorder,
  WebhookSubscriptions,
  RedisClient,
} from '@ticketing/shared';
import type { Kysely } from 'kysely';
import type { DrawCache } from './events/draw-cache.js';
import type { EventCache } from './events/event-cache.js';
import type { BuyerAccess } from './http/buyer-auth.js';
import type { AcceptedViewCache } from './purchases/accepted-view-cache.js';
import type { PurchaseBatching } from './purchases/purchase-batching.js';
import type { PurchaseUpdateListener } from './purchases/purchase-update-listener.js';

/** Everything the routes need, built by `compose.ts` (or a test) and handed to `buildApp`. */
export interface AppDeps {
  readonly config: Config;
  readonly db: Kysely<Database>;
  /** The non-blocking connection the queues use; also pinged by the readiness check. */
  readonly redis: RedisClient;
  readonly queues: EventQueues;
  readonly updates: PurchaseUpdateListener;
  readonly events: EventCache;
  /** Draws once made: their keys in drawn order. */
  readonly draws: DrawCache;
  readonly purchases: PurchaseBatching;
  readonly acceptedViews: AcceptedViewCache;
  /** Who may act on the buyer routes (buyer tokens, when configured). */
  readonly buyers: BuyerAccess;
  /** The webhook types some endpoint subscribes to, as this process last read them. */
  readonly webhookSubscriptions: WebhookSubscriptions;
  /** Where a state change the api commits itself is recorded for webhooks, in its transaction. */
  readonly outbox: OutboxRecorder;
}

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;
