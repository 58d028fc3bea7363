import { connectionErrorsCounter, postgresHostGauge, SALE_STATES, saleState } from '@ticketing/shared';
import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { App, AppDeps } from '../app-types.js';
import {
  countCancellationLeft,
  countPrequeued,
  listRecentEvents,
  type EventRowAt,
} from '../events/events.repository.js';
import { errorResponse } from '../http/common.schemas.js';

/** Events whose queue depth is exported, newest first: the label count stays bounded. */
export const QUEUE_DEPTH_EVENTS = 50;

/**
 * The api's Prometheus metrics at `GET /metrics`: request durations by route pattern and status, the
 * queue depth and held tickets of the newest events, Postgres and Redis connection errors, and Node's
 * process metrics. Each app has its own registry. Register it at the root, so the timing hook sees
 * every route (and requests that match none).
 */
export function registerMetrics(app: App, deps: AppDeps): void {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  connectionErrorsCounter(registry);
  postgresHostGauge(registry);

  const requestDuration = new Histogram({
    name: 'ticketing_http_request_duration_seconds',
    help: 'HTTP requests by method, route pattern and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });

  /** A gauge of one figure per event, for the newest events (a bounded label count), read at scrape time. */
  const perRecentEvent = (
    name: string,
    help: string,
    figure: (event: EventRowAt) => number | Promise<number>,
  ): void => {
    new Gauge({
      name,
      help: `${help}, for each of the ${QUEUE_DEPTH_EVENTS} newest events`,
      labelNames: ['event_id'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        try {
          const events = await listRecentEvents(deps.db, QUEUE_DEPTH_EVENTS);
          const figures = await Promise.all(events.map(figure));
          events.forEach((event, index) => this.set({ event_id: event.id }, figures[index] ?? 0));
        } catch (err) {
          // A scrape while Postgres or Redis is away still reports everything else.
          app.log.warn({ err, metric: name }, 'metric not collected');
        }
      },
    });
  };
  perRecentEvent('ticketing_queue_depth', 'Jobs not yet finished in the event queue', (event) =>
    deps.queues.depth(event.id),
  );
  // Confirmations show in the request durations (route /purchases/:id/confirm: 200 confirmed, 409 too
  // late or cancelled); expiries in the worker's decisions by outcome.
  perRecentEvent(
    'ticketing_held_tickets',
    'Tickets held for purchases awaiting payment',
    (event) => event.heldTickets,
  );

  perRecentEvent(
    'ticketing_prequeue_size',
    'Purchases in the pre-queue, waiting for the draw at the sale start',
    async (event) =>
      event.salesStartAt === null || event.drawFinishedAt !== null
        ? 0
        : ((await countPrequeued(deps.db, [event.id])).get(event.id) ?? 0),
  );
  perRecentEvent(
    'ticketing_cancellation_purchases_left',
    "Purchases a cancelled event's cancellation has still to cancel (0 once it is carried out)",
    async (event) =>
      event.cancelledAt === null || event.cancellationFinishedAt !== null
        ? 0
        : countCancellationLeft(deps.db, event.id),
  );
  new Gauge({
    name: 'ticketing_sale_state',
    help: `1 for the sale state each of the ${QUEUE_DEPTH_EVENTS} newest events is in (by the database clock), 0 for the others`,
    labelNames: ['event_id', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      try {
        for (const event of await listRecentEvents(deps.db, QUEUE_DEPTH_EVENTS)) {
          const state = saleState(event, event.dbNow);
          for (const each of SALE_STATES)
            this.set({ event_id: event.id, state: each }, each === state ? 1 : 0);
        }
      } catch (err) {
        app.log.warn({ err, metric: 'ticketing_sale_state' }, 'metric not collected');
      }
    },
  });

  app.addHook('onResponse', (request, reply, done) => {
    requestDuration.observe(
      {
        method: request.method,
        // The route pattern, not the URL: one series per route whatever the ids (unknown routes share one).
        route: request.routeOptions.url ?? 'unmatched',
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
    done();
  });

  // A plugin, so that it loads after the OpenAPI plugin and is described like every route.
  app.register(async (scope) => {
    scope.get(
      '/metrics',
      {
        schema: {
          tags: ['operations'],
          summary: 'Prometheus metrics of this api process',
          response: {
            200: {
              description: 'Prometheus text exposition format',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
            429: errorResponse[429],
            500: errorResponse[500],
          },
        },
      },
      async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()),
    );
  });
}
