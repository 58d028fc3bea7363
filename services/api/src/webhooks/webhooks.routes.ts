import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AppError,
  WEBHOOK_EVENT_TYPES,
  WEBHOOK_SUBSCRIPTIONS_REFRESH_MS,
  checkWebhookUrl,
  notFound,
  type WebhookEndpointRow,
  type WebhookEventType,
} from '@ticketing/shared';
import type { App, AppDeps } from '../app-types.js';
import { requireAdmin } from '../http/admin-auth.js';
import {
  IdParams,
  adminErrors,
  bodyErrors,
  commonErrors,
  errorResponse,
  refusedResponse,
} from '../http/common.schemas.js';
import {
  deleteEndpoint,
  findEndpoint,
  insertEndpoint,
  listAttempts,
  listEndpoints,
} from './webhooks.repository.js';
import {
  CreateWebhookBody,
  CreatedWebhookEndpoint,
  DeliveriesQuery,
  WebhookAttemptList,
  WebhookEndpointList,
  type WebhookEndpointView,
} from './webhooks.schemas.js';

const adminOnly = { security: [{ adminToken: [] }], tags: ['webhooks'] };

/** A Standard Webhooks signing secret: 32 random bytes, base64, `whsec_` in front. */
const newSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

/**
 * Every process re-reads the endpoints once a second; answering after that has passed means the
 * changes committed after the answer are sent to the new endpoint.
 */
const UNTIL_EVERY_PROCESS_KNOWS_MS = Math.round(WEBHOOK_SUBSCRIPTIONS_REFRESH_MS * 1.5);

export const toEndpointView = (row: WebhookEndpointRow): WebhookEndpointView => ({
  id: row.id,
  url: row.url,
  ...(row.description !== null ? { description: row.description } : {}),
  events: (row.events as WebhookEventType[] | null) ?? [...WEBHOOK_EVENT_TYPES],
  enabled: row.disabledAt === null,
  ...(row.disabledAt !== null ? { disabledAt: row.disabledAt.toISOString() } : {}),
  ...(row.disabledReason !== null ? { disabledReason: row.disabledReason } : {}),
  ...(row.failingSince !== null ? { failingSince: row.failingSince.toISOString() } : {}),
  createdAt: row.createdAt.toISOString(),
});

/** The shop's webhook endpoints, behind the admin token. */
export function registerWebhookRoutes(app: App, deps: AppDeps): void {
  const guard = requireAdmin(deps.config.adminToken);

  app.post(
    '/webhooks',
    {
      onRequest: guard,
      schema: {
        ...adminOnly,
        summary: 'Register an endpoint for signed webhooks (Standard Webhooks)',
        description:
          'Answers once every process sends to it: each purchase state change committed afterwards, of ' +
          'the types subscribed to, is delivered at least once, in order per purchase, signed with the ' +
          'returned secret.',
        body: CreateWebhookBody,
        response: {
          201: CreatedWebhookEndpoint,
          ...adminErrors,
          422: refusedResponse(['webhook_url_not_allowed']),
          ...bodyErrors,
          ...commonErrors,
        },
      },
    },
    async (request, reply) => {
      const verdict = await checkWebhookUrl(request.body.url, deps.config.webhookBlockPrivateNetworks);
      if ('problem' in verdict) throw new AppError(422, 'webhook_url_not_allowed', verdict.problem);
      const row = await insertEndpoint(deps.db, {
        id: randomUUID(),
        url: request.body.url,
        description: request.body.description ?? null,
        events: request.body.events ?? null,
        secret: newSecret(),
      });
      await deps.webhookSubscriptions.refresh();
      await sleep(UNTIL_EVERY_PROCESS_KNOWS_MS);
      return reply.status(201).send({ ...toEndpointView(row), secret: row.secret });
    },
  );

  app.get(
    '/webhooks',
    {
      onRequest: guard,
      schema: {
        ...adminOnly,
        summary: 'The registered endpoints, and whether each is enabled',
        response: { 200: WebhookEndpointList, ...adminErrors, ...commonErrors },
      },
    },
    async () => ({ items: (await listEndpoints(deps.db)).map(toEndpointView) }),
  );

  app.delete(
    '/webhooks/:id',
    {
      onRequest: guard,
      schema: {
        ...adminOnly,
        summary: 'Remove an endpoint: nothing more is sent to it',
        params: IdParams,
        response: {
          204: { type: 'null', description: 'Removed' },
          ...adminErrors,
          404: errorResponse[404],
          ...commonErrors,
        },
      },
    },
    async (request, reply) => {
      if (!(await deleteEndpoint(deps.db, request.params.id))) throw notFound('Webhook endpoint');
      await deps.webhookSubscriptions.refresh();
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/webhooks/:id/deliveries',
    {
      onRequest: guard,
      schema: {
        ...adminOnly,
        summary: "The endpoint's recent delivery attempts, newest first, with its answers",
        params: IdParams,
        querystring: DeliveriesQuery,
        response: { 200: WebhookAttemptList, ...adminErrors, 404: errorResponse[404], ...commonErrors },
      },
    },
    async (request) => {
      if ((await findEndpoint(deps.db, request.params.id)) === undefined) throw notFound('Webhook endpoint');
      const attempts = await listAttempts(deps.db, request.params.id, request.query.limit ?? 100);
      return {
        items: attempts.map((attempt) => ({
          messageId: attempt.messageId,
          type: attempt.type,
          subjectId: attempt.subjectId,
          attemptedAt: attempt.attemptedAt.toISOString(),
          ...(attempt.statusCode !== null ? { statusCode: attempt.statusCode } : {}),
          ...(attempt.error !== null ? { error: attempt.error } : {}),
          durationMs: attempt.durationMs,
          succeeded: attempt.statusCode !== null && attempt.statusCode >= 200 && attempt.statusCode < 300,
        })),
      };
    },
  );
}
