import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';

/**
 * The queue of webhook deliveries, one for every endpoint and message. Its name is a hash tag, so on
 * a Redis Cluster all its keys live on one node.
 */
export const WEBHOOK_QUEUE_NAME = '{webhooks}';

/** Deliver one message to one endpoint (the row `webhook_deliveries(endpointId, messageSeq)`). */
export const DeliveryJobSchema = Type.Object(
  {
    endpointId: Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' }),
    messageSeq: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);
export type DeliveryJob = Static<typeof DeliveryJobSchema>;

const deliveryJobValidator = Compile(DeliveryJobSchema);

/** Redis is a trust boundary: a delivery job is re-checked before it is acted on. */
export const parseDeliveryJob = (data: unknown): DeliveryJob | undefined =>
  deliveryJobValidator.Check(data) ? data : undefined;

/** One job per delivery: enqueueing it again while it exists (the relay twice, the sweep) adds nothing. */
export const deliveryJobId = (job: DeliveryJob): string => `${job.endpointId}-${job.messageSeq}`;

/**
 * How long to wait before retrying a delivery that failed `failures` times: the base, doubling with
 * each failure, at most `maxDelayMs`.
 */
export const retryDelayMs = (failures: number, baseMs: number, maxDelayMs: number): number =>
  Math.min(baseMs * 2 ** Math.max(0, failures - 1), maxDelayMs);
