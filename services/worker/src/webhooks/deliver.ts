import type { Database, DeliveryJob, Logger } from '@ticketing/shared';
import { retryDelayMs, type Config } from '@ticketing/shared';
import type { Kysely } from 'kysely';
import {
  disableEndpoint,
  findDelivery,
  giveUpDelivery,
  insertAttempt,
  lineHeads,
  recordDelivered,
  recordFailure,
} from './deliveries.repository.js';
import { sendWebhook, type AttemptResult, type Connections } from './send-webhook.js';

export type WebhookConfig = Pick<
  Config,
  | 'webhookRetryBaseMs'
  | 'webhookRetryMaxDelayMs'
  | 'webhookDisableAfterMs'
  | 'webhookTimeoutMs'
  | 'webhookBlockPrivateNetworks'
>;

export interface DeliverDeps {
  readonly db: Kysely<Database>;
  readonly config: WebhookConfig;
  readonly log: Logger;
  /** Starts the delivery of a line's new head (idempotent: an existing job is left as it is). */
  readonly enqueue: (jobs: readonly DeliveryJob[]) => Promise<void>;
  readonly connections: Connections;
}

/** A failed attempt to retry after `delayMs` (the queue's backoff reads it). */
export class DeliveryFailed extends Error {
  constructor(
    message: string,
    readonly delayMs: number,
  ) {
    super(message);
    this.name = 'DeliveryFailed';
  }
}

export type DeliveryOutcome =
  'delivered' | 'given_up' | 'endpoint_disabled' | 'not_its_turn' | 'nothing_to_do';

/**
 * Attempts one delivery, the head of its line: sign and send, record the attempt, and then either
 * end it (a 2xx) and start the line's next delivery, or throw `DeliveryFailed` for the queue to retry
 * it after the backoff. An endpoint that has failed for `webhookDisableAfterMs` without a success (or
 * answers 410 Gone) is disabled; a message that has failed that long to an endpoint that otherwise
 * answers is given up there, and its line moves on.
 */
export async function deliver(deps: DeliverDeps, job: DeliveryJob): Promise<DeliveryOutcome> {
  const { db, config, log } = deps;
  const delivery = await findDelivery(db, job);
  // Its endpoint was deleted.
  if (delivery === undefined) return 'nothing_to_do';
  if (delivery.status !== 'pending') {
    // Done already (a job re-added by the sweep, or run again after a crash): the line goes on.
    await startNext(deps, job, delivery.subjectId);
    return 'nothing_to_do';
  }
  if (delivery.blocked) return 'not_its_turn';
  if (delivery.disabledAt !== null) return 'endpoint_disabled';

  const result = await sendWebhook(
    delivery.url,
    delivery.secret,
    { id: delivery.messageId, body: delivery.body },
    {
      timeoutMs: config.webhookTimeoutMs,
      blockPrivateNetworks: config.webhookBlockPrivateNetworks,
      connections: deps.connections,
    },
  );
  const attempt = {
    statusCode: result.statusCode ?? null,
    error: result.error ?? null,
    durationMs: result.durationMs,
  };
  const succeeded = result.statusCode !== undefined && result.statusCode >= 200 && result.statusCode < 300;
  if (succeeded) {
    await recordDelivered(db, job, attempt);
    await startNext(deps, job, delivery.subjectId);
    return 'delivered';
  }

  const delayMs = nextDelay(config, delivery.attempts + 1, result);
  const outcome = await db.transaction().execute(async (tx) => {
    await insertAttempt(tx, job, attempt);
    const failing = await recordFailure(tx, job, new Date(Date.now() + delayMs));
    const now = Date.now();
    if (result.statusCode === 410) {
      await disableEndpoint(tx, job.endpointId, 'The endpoint answered 410 Gone');
      return 'endpoint_disabled' as const;
    }
    if (now - failing.endpointFailingSince.getTime() >= config.webhookDisableAfterMs) {
      await disableEndpoint(
        tx,
        job.endpointId,
        `Every delivery failed since ${failing.endpointFailingSince.toISOString()}`,
      );
      return 'endpoint_disabled' as const;
    }
    if (now - failing.deliveryFailingSince.getTime() >= config.webhookDisableAfterMs) {
      await giveUpDelivery(tx, job);
      return 'given_up' as const;
    }
    return 'retry' as const;
  });
  const failure = describe(result);
  if (outcome === 'endpoint_disabled') {
    log.warn({ endpointId: job.endpointId, failure }, 'webhook endpoint disabled');
    return outcome;
  }
  if (outcome === 'given_up') {
    log.warn(
      { endpointId: job.endpointId, messageSeq: job.messageSeq, failure },
      'webhook delivery given up',
    );
    await startNext(deps, job, delivery.subjectId);
    return outcome;
  }
  throw new DeliveryFailed(failure, delayMs);
}

/** Starts the delivery that is now the head of the line, if any. */
async function startNext(deps: DeliverDeps, job: DeliveryJob, subjectId: string): Promise<void> {
  await deps.enqueue(await lineHeads(deps.db, [{ endpointId: job.endpointId, subjectId }]));
}

/** The backoff after `failures` failures, or longer if the endpoint asked for it (Retry-After). */
function nextDelay(config: WebhookConfig, failures: number, result: AttemptResult): number {
  const backoff = retryDelayMs(failures, config.webhookRetryBaseMs, config.webhookRetryMaxDelayMs);
  return Math.min(Math.max(backoff, result.retryAfterMs ?? 0), config.webhookRetryMaxDelayMs);
}

const describe = (result: AttemptResult): string =>
  result.statusCode !== undefined ? `answered ${result.statusCode}` : (result.error ?? 'no answer');
