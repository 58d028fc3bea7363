import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  EventQueues,
  createDb,
  createRedis,
  encodePendingEvents,
  pendingEventsChannel,
  type Config,
  type Database,
} from '@ticketing/shared';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import { EventCache } from './events/event-cache.js';
import { AcceptedPurchases } from './purchases/accepted-purchases.js';
import { createPurchaseBatching, type PurchaseBatching } from './purchases/purchase-batching.js';
import { SettlementListener } from './purchases/settlement-listener.js';

/** Everything the routes need, built by `server.ts` (or a test) and handed to `buildApp`. */
export interface AppDeps {
  readonly config: Config;
  readonly db: Kysely<Database>;
  /** The non-blocking connection the queues use; also pinged by the readiness check. */
  readonly redis: Redis;
  readonly queues: EventQueues;
  readonly settlements: SettlementListener;
  readonly events: EventCache;
  readonly purchases: PurchaseBatching;
  readonly accepted: AcceptedPurchases;
}

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export async function openAppDeps(config: Config): Promise<AppDeps> {
  const db = createDb(config.databaseUrl, {
    poolSize: 20,
    idleInTransactionTimeoutMs: config.dbIdleInTransactionTimeoutMs,
  });
  const redis = createRedis(config.redisUrl, 'requests', `${config.queuePrefix}:api`);
  // Purchases are refused while this connection is not ready, so the api starts serving once it is.
  if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
  const settlements = await SettlementListener.start(
    createRedis(config.redisUrl, 'subscriber', `${config.queuePrefix}:api-settlements`),
    config.queuePrefix,
  );
  const queues = new EventQueues(redis, config.queuePrefix);
  await queues.prepare();
  const accepted = new AcceptedPurchases();
  settlements.observe((settlement) => accepted.forget(settlement.id));
  return {
    config,
    db,
    redis,
    queues,
    settlements,
    events: new EventCache(db),
    purchases: createPurchaseBatching(db, queues, (eventIds) =>
      redis.publish(pendingEventsChannel(config.queuePrefix), encodePendingEvents(eventIds)),
    ),
    accepted,
  };
}

/** Releases in dependency order: nothing may use the queues or the pool after this. */
export async function closeAppDeps(deps: AppDeps): Promise<void> {
  await deps.settlements.close();
  await deps.queues.close();
  await deps.db.destroy();
  await deps.redis.quit().catch(() => undefined);
}
