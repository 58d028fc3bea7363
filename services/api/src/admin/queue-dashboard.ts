import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { eventQueueName } from '@ticketing/shared';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-types.js';
import { listRecentEvents } from '../events/events.repository.js';
import { requireAdmin } from '../http/admin-auth.js';

export const QUEUE_DASHBOARD_PATH = '/admin/queues';
/** Queues the dashboard lists: those of the newest events. */
const DASHBOARD_EVENTS = 200;
/** The event list is re-read at most this often, however often the dashboard polls. */
const REFRESH_MS = 2_000;

/**
 * Bull Board at `/admin/queues`, behind the admin token. Every event has its own queue, so the list of
 * queues is read from Postgres as the dashboard asks for it (at most every couple of seconds): a new
 * event appears without a restart. Queue objects come from the app's `EventQueues`, which share one
 * Redis connection.
 */
export function registerQueueDashboard(app: FastifyInstance, deps: AppDeps): void {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(QUEUE_DASHBOARD_PATH);
  const board = createBullBoard({
    queues: [],
    serverAdapter,
    options: {
      uiConfig: {
        boardTitle: 'Ticketing queues',
        miscLinks: [
          { text: 'On-sale monitor', url: '/admin' },
          { text: 'API docs', url: '/docs' },
        ],
      },
    },
  });

  const adapters = new Map<string, BullMQAdapter>();
  let refreshedAt = 0;
  async function refreshQueues(): Promise<void> {
    if (Date.now() - refreshedAt < REFRESH_MS) return;
    refreshedAt = Date.now();
    const events = await listRecentEvents(deps.db, DASHBOARD_EVENTS);
    const current = new Map<string, BullMQAdapter>();
    for (const event of events) {
      current.set(
        event.id,
        adapters.get(event.id) ??
          new BullMQAdapter(deps.queues.queue(event.id), {
            displayName: `${event.name} (${eventQueueName(event.id)})`,
            description: `${event.totalTickets} tickets, created ${event.createdAt.toISOString()}`,
          }),
      );
    }
    adapters.clear();
    for (const [id, adapter] of current) adapters.set(id, adapter);
    board.replaceQueues([...current.values()]);
  }

  app.register(async (scope) => {
    scope.addHook('onRequest', requireAdmin(deps.config.adminToken, { challenge: 'basic' }));
    scope.addHook('onRequest', refreshQueues);
    await scope.register(serverAdapter.registerPlugin(), { prefix: QUEUE_DASHBOARD_PATH });
  });
}
