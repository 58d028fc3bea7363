import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { eventQueueName, type EventRow } from '@ticketing/shared';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-types.js';
import { listRecentEvents } from '../events/events.repository.js';
import { requireAdmin } from '../http/admin-auth.js';
import { WorkerRoster, type DashboardWorker } from './worker-roster.js';

export const QUEUE_DASHBOARD_PATH = '/admin/queues';
/** Queues the dashboard lists: those of the newest events. */
const DASHBOARD_EVENTS = 200;
/** The event list is re-read at most this often, however often the dashboard polls. */
const REFRESH_MS = 2_000;

/**
 * How the dashboard lists an event's queue: the event's name first (Bull Board's menu shows this, and
 * cuts it short), then the queue's own name, which keeps it unique.
 */
const namePrefix = (eventName: string): string => `${eventName} · `;

export const dashboardQueueName = (event: Pick<EventRow, 'id' | 'name'>): string =>
  `${namePrefix(event.name)}${eventQueueName(event.id)}`;

/** An event's queue, named after the event, with the worker processes that drain it. */
class EventQueueAdapter extends BullMQAdapter {
  private readonly about: string;

  constructor(
    queue: Queue,
    private readonly eventId: string,
    event: Pick<EventRow, 'name' | 'totalTickets' | 'createdAt'>,
    private readonly roster: WorkerRoster,
  ) {
    const about = `${event.totalTickets} tickets, created ${event.createdAt.toISOString()}`;
    // Bull Board names a queue by this prefix and the queue's own name: `dashboardQueueName`.
    super(queue, {
      prefix: namePrefix(event.name),
      displayName: `${event.name} (${eventQueueName(eventId)})`,
      description: about,
    });
    this.about = about;
  }

  override getDescription(): string {
    return `${this.about}. ${this.roster.describe(this.eventId)}`;
  }

  override async getWorkers(): Promise<DashboardWorker[]> {
    return this.roster.workersOf(this.eventId);
  }
}

/**
 * Bull Board at `/admin/queues`, behind the admin token. Every event has its own queue, so the list of
 * queues is read from Postgres as the dashboard asks for it (at most every couple of seconds): a new
 * event appears without a restart. Queue objects come from the app's `EventQueues`, which share one
 * Redis connection. Each queue is listed by its event's name, with the worker processes draining it
 * (`WorkerRoster`, refreshed with the list).
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

  const roster = new WorkerRoster(deps.redis, deps.config.queuePrefix);
  const adapters = new Map<string, EventQueueAdapter>();
  let refreshedAt = 0;
  async function refreshQueues(): Promise<void> {
    if (Date.now() - refreshedAt < REFRESH_MS) return;
    refreshedAt = Date.now();
    const events = await listRecentEvents(deps.db, DASHBOARD_EVENTS);
    await roster.refresh(events.map((event) => event.id));
    const current = new Map<string, EventQueueAdapter>();
    for (const event of events) {
      current.set(
        event.id,
        adapters.get(event.id) ?? new EventQueueAdapter(deps.queues.queue(event.id), event.id, event, roster),
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
