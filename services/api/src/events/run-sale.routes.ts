import { SALE_OPERATION_REFUSAL_CODES } from '@ticketing/shared';
import {
  IdParams,
  adminErrors,
  bodyErrors,
  commonErrors,
  conflictResponse,
  errorResponse,
  refusedResponse,
} from '../http/common.schemas.js';
import { requireAdmin } from '../http/admin-auth.js';
import type { App, AppDeps } from '../app-types.js';
import { CancelEventBody, EventView, UpdateEventBody } from './events.schemas.js';
import { runSaleCommand, updateEvent, type SaleCommand } from './run-sale.js';

const RUNNING_A_SALE = 'docs/running-a-sale.md';

/** The operations on a running sale: admin routes answering the event as the operation left it. */
export function registerRunSaleRoutes(app: App, deps: AppDeps): void {
  const guard = requireAdmin(deps.config.adminToken);
  const refusals = conflictResponse(SALE_OPERATION_REFUSAL_CODES);

  app.patch(
    '/events/:id',
    {
      onRequest: guard,
      schema: {
        security: [{ adminToken: [] }],
        tags: ['events'],
        summary: "Change an event's name, price, per-purchase limit, hold time, end or total",
        description:
          'At least one field. The terms change at once; `totalTickets` takes its place in the queue ' +
          '(`pendingTotalTickets` until it is carried out), and cannot go below the tickets sold or held ' +
          '(409 `below_sold_and_held`, with the minimum in the message). A cancelled event is 409 ' +
          '`event_cancelled`; the end and the total of an ended sale are 409 `sale_ended`. Switching ' +
          'between holds and none is 422 `invalid_hold_seconds`; an end not after now and the start is ' +
          `422 \`invalid_sale_window\`. Records \`event.updated\`. See ${RUNNING_A_SALE}.`,
        params: IdParams,
        body: UpdateEventBody,
        response: {
          200: EventView,
          404: errorResponse[404],
          409: refusals,
          422: refusedResponse(['invalid_hold_seconds', 'invalid_sale_window']),
          ...adminErrors,
          ...bodyErrors,
          ...commonErrors,
        },
      },
    },
    async (request) => updateEvent(deps, request.params.id, request.body),
  );

  const command = (path: 'pause' | 'resume' | 'close', summary: string, description: string): void => {
    app.post(
      `/events/:id/${path}`,
      {
        onRequest: guard,
        schema: {
          security: [{ adminToken: [] }],
          tags: ['events'],
          summary,
          description: `${description} A repeat answers the same. See ${RUNNING_A_SALE}.`,
          params: IdParams,
          response: {
            200: EventView,
            404: errorResponse[404],
            409: refusals,
            ...adminErrors,
            ...commonErrors,
          },
        },
      },
      async (request) => (await runSaleCommand(deps, request.params.id, { operation: path })).event,
    );
  };
  command(
    'pause',
    'Pause a sale: purchases are still accepted and keep their place, nothing is decided',
    'Holds keep running and can be confirmed. Records `event.paused`. An ended sale is 409 ' +
      '`sale_ended`, a cancelled event 409 `event_cancelled`.',
  );
  command(
    'resume',
    'Resume a paused sale: the waiting list first, then the queue in order',
    'Records `event.resumed`. A cancelled event is 409 `event_cancelled`.',
  );
  command(
    'close',
    'End the sale now, as if `salesEndAt` had passed',
    'New purchases are 409 `sale_ended`; those accepted before are decided, then the waiting list is ' +
      'closed (each waiting purchase `rejected`, `sale_ended`). A paused event is resumed. The worker ' +
      'records `event.ended` when the close is carried out. A cancelled event is 409 `event_cancelled`.',
  );

  app.post(
    '/events/:id/cancel',
    {
      onRequest: guard,
      schema: {
        security: [{ adminToken: [] }],
        tags: ['events'],
        summary: 'Cancel an event for good: every purchase ends cancelled (`event_cancelled`)',
        description:
          'Irreversible. New purchases and confirmations are 409 `event_cancelled`; the workers cancel every ' +
          'purchase in queue order, a batch at a time: 202 while they are at it (`cancellation.finishedAt` ' +
          'null), 200 once done. A repeat keeps the first reason. Records `event.cancelled`. The report ' +
          `shows \`refundDueCents\`. See ${RUNNING_A_SALE}.`,
        params: IdParams,
        body: CancelEventBody,
        response: {
          200: EventView,
          202: EventView,
          404: errorResponse[404],
          ...adminErrors,
          ...bodyErrors,
          ...commonErrors,
        },
      },
    },
    async (request, reply) => {
      const cancel: SaleCommand = { operation: 'cancel', reason: request.body.reason };
      const { event, inProgress } = await runSaleCommand(deps, request.params.id, cancel);
      return reply.status(inProgress ? 202 : 200).send(event);
    },
  );
}
