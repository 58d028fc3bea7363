import {
  EventQueues,
  WebhookOutbox,
  WebhookSubscriptions,
  createDb,
  createRedis,
  encodePendingEvents,
  pendingEventsChannel,
  type Config,
} from '@ticketing/shared';
import type { AppDeps } from './app-types.js';
import { DrawCache } from './events/draw-cache.js';
import { EventCache, eventChangesChannel } from './events/event-cache.js';
import { BuyerAccess, createBuyerTokens } from './http/buyer-auth.js';
import { AcceptedViewCache } from './purchases/accepted-view-cache.js';
import { createPurchaseBatching } from './purchases/purchase-batching.js';
import { PurchaseUpdateListener } from './purchases/purchase-update-listener.js';

/** Builds the api's dependencies from its configuration (for `server.ts`, or a test). */
export async function openAppDeps(config: Config): Promise<AppDeps> {
  const db = createDb(config.databaseUrl, {
    poolSize: 20,
    idleInTransactionTimeoutMs: config.dbIdleInTransactionTimeoutMs,
  });
  const redis = createRedis(config, 'requests', `${config.queuePrefix}:api`);
  // Purchases are refused while this connection is not ready, so the api starts serving once it is.
  if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
  const updates = await PurchaseUpdateListener.start(
    createRedis(config, 'subscriber', `${config.queuePrefix}:api-updates`),
    config.queuePrefix,
  );
  const queues = new EventQueues(redis, config.queuePrefix);
  await queues.prepare();
  const webhookSubscriptions = new WebhookSubscriptions(db);
  await webhookSubscriptions.start();
  const acceptedViews = new AcceptedViewCache();
  updates.observe((update) => acceptedViews.forget(update.id));
  const outbox = new WebhookOutbox(webhookSubscriptions);
  const events = new EventCache(db, (eventId) =>
    redis.publish(eventChangesChannel(config.queuePrefix), eventId),
  );
  await events.listen(updates.connection, config.queuePrefix);
  return {
    config,
    db,
    redis,
    queues,
    updates,
    events,
    draws: new DrawCache(db),
    purchases: createPurchaseBatching(
      db,
      queues,
      (eventIds) => redis.publish(pendingEventsChannel(config.queuePrefix), encodePendingEvents(eventIds)),
      outbox,
    ),
    acceptedViews,
    buyers: new BuyerAccess(createBuyerTokens(config)),
    webhookSubscriptions,
    outbox,
  };
}

/** Releases in dependency order: nothing may use the queues or the pool after this. */
export async function closeAppDeps(deps: AppDeps): Promise<void> {
  deps.webhookSubscriptions.stop();
  await deps.updates.close();
  await deps.queues.close();
  await deps.db.destroy();
  await deps.redis.quit().catch(() => undefined);
}
