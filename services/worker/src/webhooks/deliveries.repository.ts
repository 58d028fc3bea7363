import type { DeliveryJob, WebhookDeliveryStatus, Db, Tx } from '@ticketing/shared';
import { sql } from 'kysely';

// The webhook tables as the relay and the deliveries use them. Each endpoint has a line of deliveries
// per subject (a purchase, or an event for event messages), in message order; only a line's head,
// its oldest pending delivery, is ever attempted, so a subject's messages arrive in order.

/** Relaying is one process at a time (a transaction-scoped advisory lock on this key). */
const RELAY_LOCK = 0x77656268; // "webh"

/**
 * Gives up to `limit` messages not yet relayed their deliveries, one per endpoint subscribed to the
 * message's type (and registered before it), and marks them relayed; returns the lines that got
 * deliveries. One relay runs at a time, oldest messages first: two relaying side by side could let a
 * purchase's later message reach its line before an earlier one. (A purchase's messages are numbered
 * in commit order: the transactions that change one purchase hold its event's row lock in turn.)
 * Returns undefined when another process is relaying. Runs in the caller's transaction, which holds
 * the relay's lock until it commits.
 */
export async function relayMessages(tx: Tx, limit: number): Promise<Line[] | undefined> {
  const { rows: lock } = await sql<{ locked: boolean }>`
    select pg_try_advisory_xact_lock(${RELAY_LOCK}) as locked`.execute(tx);
  if (lock[0]?.locked !== true) return undefined;
  const messages = await tx
    .selectFrom('webhookMessages')
    .select('seq')
    .where('relayedAt', 'is', null)
    .orderBy('seq')
    .limit(limit)
    .execute();
  if (messages.length === 0) return [];
  const seqs = messages.map((message) => message.seq);
  const { rows } = await sql<Line>`
    insert into webhook_deliveries (endpoint_id, message_seq, subject_id)
    select e.id, m.seq, m.subject_id
    from webhook_messages m
    join webhook_endpoints e on e.disabled_at is null and e.created_at <= m.created_at
      and (e.events is null or m.type = any(e.events))
    where m.seq = any(${seqs}::bigint[])
    order by m.seq
    on conflict do nothing
    returning endpoint_id, subject_id`.execute(tx);
  await tx
    .updateTable('webhookMessages')
    .set({ relayedAt: new Date() })
    .where('seq', '=', (eb) => eb.fn.any(eb.val(seqs)))
    .execute();
  return rows;
}

/** An endpoint's deliveries about one subject. */
export interface Line {
  readonly endpointId: string;
  readonly subjectId: string;
}

/** The head of each line: the one delivery of it that may be attempted now. */
export async function lineHeads(db: Db, lines: readonly Line[]): Promise<DeliveryJob[]> {
  if (lines.length === 0) return [];
  const { rows } = await sql<DeliveryJob>`
    select distinct on (d.endpoint_id, d.subject_id) d.endpoint_id, d.message_seq
    from unnest(${lines.map((line) => line.endpointId)}::uuid[], ${lines.map((line) => line.subjectId)}::uuid[])
      as l(endpoint_id, subject_id)
    join webhook_deliveries d on d.endpoint_id = l.endpoint_id and d.subject_id = l.subject_id
    where d.status = 'pending'
    order by d.endpoint_id, d.subject_id, d.message_seq`.execute(db);
  return rows;
}

/**
 * Line heads whose job should have run more than `graceMs` ago: their job was lost (a crash between
 * relaying and enqueueing, or Redis lost it). Re-adding one whose job still exists adds nothing.
 */
export async function overdueHeads(db: Db, graceMs: number, limit: number): Promise<DeliveryJob[]> {
  const { rows } = await sql<DeliveryJob>`
    select endpoint_id, message_seq from (
      select distinct on (endpoint_id, subject_id) endpoint_id, message_seq, next_attempt_at
      from webhook_deliveries
      where status = 'pending'
      order by endpoint_id, subject_id, message_seq
    ) heads
    where next_attempt_at < now() - make_interval(secs => ${graceMs / 1000})
    limit ${limit}`.execute(db);
  return rows;
}

/** A delivery with what sending it needs. */
export interface DeliveryToSend {
  readonly status: WebhookDeliveryStatus;
  readonly subjectId: string;
  readonly attempts: number;
  readonly firstAttemptAt: Date | null;
  readonly messageId: string;
  readonly body: string;
  readonly url: string;
  readonly secret: string;
  readonly disabledAt: Date | null;
  /** An older delivery of its line is still pending: this one must wait its turn. */
  readonly blocked: boolean;
}

export async function findDelivery(db: Db, job: DeliveryJob): Promise<DeliveryToSend | undefined> {
  const { rows } = await sql<DeliveryToSend>`
    select d.status, d.subject_id, d.attempts, d.first_attempt_at, m.id as message_id, m.body,
      e.url, e.secret, e.disabled_at,
      exists (
        select 1 from webhook_deliveries p
        where p.endpoint_id = d.endpoint_id and p.subject_id = d.subject_id and p.status = 'pending'
          and p.message_seq < d.message_seq
      ) as blocked
    from webhook_deliveries d
    join webhook_messages m on m.seq = d.message_seq
    join webhook_endpoints e on e.id = d.endpoint_id
    where d.endpoint_id = ${job.endpointId} and d.message_seq = ${job.messageSeq}`.execute(db);
  return rows[0];
}

export interface AttemptRecord {
  readonly statusCode: number | null;
  readonly error: string | null;
  readonly durationMs: number;
}

export async function insertAttempt(tx: Tx, job: DeliveryJob, attempt: AttemptRecord): Promise<void> {
  await tx
    .insertInto('webhookAttempts')
    .values({ endpointId: job.endpointId, messageSeq: job.messageSeq, ...attempt })
    .execute();
}

/**
 * Records a successful attempt, ends the delivery and the endpoint's failing streak: one statement,
 * since a delivery's cost is mostly its round trips.
 */
export async function recordDelivered(db: Db, job: DeliveryJob, attempt: AttemptRecord): Promise<void> {
  await sql`
    with attempt as (
      insert into webhook_attempts (endpoint_id, message_seq, status_code, error, duration_ms)
      values (${job.endpointId}, ${job.messageSeq}, ${attempt.statusCode}, ${attempt.error}, ${attempt.durationMs})
    ), delivered as (
      update webhook_deliveries
      set status = 'delivered', attempts = attempts + 1, first_attempt_at = coalesce(first_attempt_at, now()),
        completed_at = now()
      where endpoint_id = ${job.endpointId} and message_seq = ${job.messageSeq}
    )
    update webhook_endpoints set failing_since = null
    where id = ${job.endpointId} and failing_since is not null`.execute(db);
}

/** Gives a delivery up after it failed for too long. */
export async function giveUpDelivery(tx: Tx, job: DeliveryJob): Promise<void> {
  await tx
    .updateTable('webhookDeliveries')
    .set({ status: 'failed', completedAt: sql<Date>`now()` })
    .where('endpointId', '=', job.endpointId)
    .where('messageSeq', '=', job.messageSeq)
    .execute();
}

/**
 * Records a failed attempt to be retried at `nextAttemptAt`; returns since when the endpoint has been
 * failing and since when this delivery has.
 */
export async function recordFailure(
  tx: Tx,
  job: DeliveryJob,
  nextAttemptAt: Date,
): Promise<{ endpointFailingSince: Date; deliveryFailingSince: Date }> {
  const delivery = await tx
    .updateTable('webhookDeliveries')
    .set((eb) => ({
      attempts: eb('attempts', '+', 1),
      firstAttemptAt: eb.fn.coalesce('firstAttemptAt', sql<Date>`now()`),
      nextAttemptAt,
    }))
    .where('endpointId', '=', job.endpointId)
    .where('messageSeq', '=', job.messageSeq)
    .returning('firstAttemptAt')
    .executeTakeFirstOrThrow();
  const endpoint = await tx
    .updateTable('webhookEndpoints')
    .set((eb) => ({ failingSince: eb.fn.coalesce('failingSince', sql<Date>`now()`) }))
    .where('id', '=', job.endpointId)
    .returning('failingSince')
    .executeTakeFirstOrThrow();
  const now = new Date();
  return {
    endpointFailingSince: endpoint.failingSince ?? now,
    deliveryFailingSince: delivery.firstAttemptAt ?? now,
  };
}

/** Disables an endpoint, saying why, and abandons what it still had pending. */
export async function disableEndpoint(tx: Tx, endpointId: string, reason: string): Promise<void> {
  await tx
    .updateTable('webhookEndpoints')
    .set({ disabledAt: sql<Date>`now()`, disabledReason: reason })
    .where('id', '=', endpointId)
    .where('disabledAt', 'is', null)
    .execute();
  await tx
    .updateTable('webhookDeliveries')
    .set({ status: 'abandoned', completedAt: sql<Date>`now()` })
    .where('endpointId', '=', endpointId)
    .where('status', '=', 'pending')
    .execute();
}
