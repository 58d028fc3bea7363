import { Type, type Static } from 'typebox';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '@ticketing/shared';
import { Uuid } from '../http/common.schemas.js';

export const WebhookEventTypeSchema = Type.Unsafe<WebhookEventType>({
  type: 'string',
  enum: [...WEBHOOK_EVENT_TYPES],
  description:
    '`purchase.<status>` when a purchase moves to a status; `purchase.promoted` when one is confirmed ' +
    "off the waiting list (`purchase.prequeued` when one enters an event's pre-queue); `event.sold_out` " +
    'when an event sells its last ticket; `event.sale_started` when its sale starts (the draw is made, with ' +
    'its commitment and entrant count)',
});

export const CreateWebhookBody = Type.Object(
  {
    url: Type.String({
      minLength: 1,
      maxLength: 2_048,
      description: 'An http:// or https:// URL that receives the messages as POST requests',
    }),
    events: Type.Optional(
      Type.Array(WebhookEventTypeSchema, {
        minItems: 1,
        uniqueItems: true,
        description: 'The types to receive; left out: every type, including types added later',
      }),
    ),
    description: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);
export type CreateWebhookInput = Static<typeof CreateWebhookBody>;

const endpointProperties = {
  id: Uuid,
  url: Type.String(),
  description: Type.Optional(Type.String()),
  events: Type.Array(WebhookEventTypeSchema),
  enabled: Type.Boolean({ description: 'False once disabled: nothing more is sent to it' }),
  disabledAt: Type.Optional(Type.String({ format: 'date-time' })),
  disabledReason: Type.Optional(
    Type.String({ description: 'Why it was disabled (410 Gone, failing too long)' }),
  ),
  failingSince: Type.Optional(
    Type.String({ format: 'date-time', description: 'Every attempt since then has failed' }),
  ),
  createdAt: Type.String({ format: 'date-time' }),
};

export const WebhookEndpointView = Type.Object(endpointProperties, {
  $id: 'WebhookEndpoint',
  description: 'An endpoint that receives webhooks (its secret is shown only when it is created)',
});
export type WebhookEndpointView = Static<typeof WebhookEndpointView>;

export const CreatedWebhookEndpoint = Type.Object(
  {
    ...endpointProperties,
    secret: Type.String({
      pattern: '^whsec_',
      description: 'The signing secret (Standard Webhooks `whsec_…`); shown this once, keep it',
    }),
  },
  { $id: 'CreatedWebhookEndpoint', description: 'A new endpoint, with its signing secret' },
);

export const WebhookEndpointList = Type.Object({ items: Type.Array(WebhookEndpointView) });

export const WebhookAttemptView = Type.Object(
  {
    messageId: Type.String({ description: 'The `webhook-id` of the message: the same on every attempt' }),
    type: Type.String(),
    subjectId: Uuid,
    attemptedAt: Type.String({ format: 'date-time' }),
    statusCode: Type.Optional(Type.Integer({ description: "The endpoint's answer" })),
    error: Type.Optional(Type.String({ description: 'Why there was no answer' })),
    durationMs: Type.Integer(),
    succeeded: Type.Boolean(),
  },
  { $id: 'WebhookAttempt', description: 'One attempt to deliver a message' },
);
export type WebhookAttemptView = Static<typeof WebhookAttemptView>;

export const WebhookAttemptList = Type.Object({ items: Type.Array(WebhookAttemptView) });

export const DeliveriesQuery = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })) },
  { additionalProperties: false },
);
