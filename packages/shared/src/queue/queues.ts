import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';

/**
 * Every event has its own queue. The event id sits in a Redis hash tag (`{...}`), so all keys of one
 * queue live on one Redis Cluster node while different events spread over the cluster.
 */
export const eventQueueName = (eventId: string): string => `event-{${eventId}}`;

const QUEUE_NAME = /^event-\{([0-9a-f-]{36})\}$/;

export function eventIdOfQueue(queueName: string): string | undefined {
  return QUEUE_NAME.exec(queueName)?.[1];
}

/** The event whose queue a Redis key belongs to (`prefix:event-{id}:…`), if it is an event's key. */
export function eventIdOfKey(prefix: string, key: string): string | undefined {
  if (!key.startsWith(`${prefix}:`)) return undefined;
  return eventIdOfQueue(key.slice(prefix.length + 1).split(':')[0] ?? '');
}

/** Channel on which the api announces events that have new jobs, so an idle worker starts at once. */
export const pendingEventsChannel = (prefix: string): string => `${prefix}:events:pending`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** One announcement names every event that got jobs in one enqueue. */
export const encodePendingEvents = (eventIds: readonly string[]): string => JSON.stringify(eventIds);

/**
 * An announcement of events whose new work is in Postgres only: a sale operation (a resize, a close, a
 * resume, an event's cancellation) has no job, so a worker woken by it applies everything accepted,
 * as after the scan of Postgres, instead of waiting for the scan.
 */
export const encodeWorkInPostgres = (eventIds: readonly string[]): string =>
  JSON.stringify({ inPostgres: eventIds });

/** What an announcement says: which events, and whether their work is in Postgres only. */
export interface Announcement {
  readonly eventIds: string[];
  readonly inPostgres: boolean;
}

/** An announcement's event ids; anything else in it is ignored (pub/sub is a trust boundary). */
export function parseAnnouncement(message: string): Announcement {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return { eventIds: [], inPostgres: false };
  }
  const inPostgres =
    typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && 'inPostgres' in parsed;
  const ids: unknown = inPostgres ? (parsed as { inPostgres: unknown }).inPostgres : parsed;
  return {
    eventIds: Array.isArray(ids)
      ? ids.filter((id): id is string => typeof id === 'string' && UUID.test(id))
      : [],
    inPostgres,
  };
}

/** The event ids of an announcement of jobs or of work in Postgres. */
export const parsePendingEvents = (message: string): string[] => parseAnnouncement(message).eventIds;

/** Key of the lease that gives one worker process an event's queue at a time (same hash tag). */
export const eventLeaseKey = (prefix: string, eventId: string): string =>
  `${prefix}:${eventQueueName(eventId)}:lease`;

const Uuid = Type.String({
  format: 'uuid',
  pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
});

/** The request's place in the event's queue: its number in the purchase sequence. */
const Seq = Type.Integer({ minimum: 1 });

/** Decide a purchase, after every request of the event accepted before it. */
export const PurchaseJobSchema = Type.Object(
  { kind: Type.Literal('purchase'), eventId: Uuid, purchaseId: Uuid, seq: Seq },
  { additionalProperties: false },
);
/** Cancel a purchase, after every request of the event accepted before the cancellation. */
export const CancelJobSchema = Type.Object(
  { kind: Type.Literal('cancel'), eventId: Uuid, purchaseId: Uuid, seq: Seq },
  { additionalProperties: false },
);
export const JobSchema = Type.Union([PurchaseJobSchema, CancelJobSchema]);

export type PurchaseJob = Static<typeof PurchaseJobSchema>;
export type CancelJob = Static<typeof CancelJobSchema>;
export type TicketingJob = Static<typeof JobSchema>;

const jobValidator = Compile(JobSchema);

/** Redis is a trust boundary: the worker re-checks every payload before acting on it. */
export function parseJob(data: unknown): TicketingJob | undefined {
  return jobValidator.Check(data) ? data : undefined;
}

/** Job ids are deterministic, so enqueueing the same thing twice (a retry, the reconciler) adds it once. */
export const jobIdFor = (job: TicketingJob): string =>
  job.kind === 'purchase' ? job.purchaseId : `cancel-${job.purchaseId}`;

/**
 * Completed jobs leave Redis at once: their outcome lives in Postgres, and BullMQ only trims kept
 * jobs when a later job of the same queue completes, so thousands of finished on-sales would each
 * keep theirs forever. Failed jobs stay a day (at most 1,000 per queue) for operators to look at.
 */
export const JOB_OPTIONS = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 200 },
  removeOnComplete: true,
  removeOnFail: { age: 24 * 3600, count: 1_000 },
} as const;

/**
 * Each queue's event stream (what Bull Board and QueueEvents read) keeps about this many entries
 * rather than BullMQ's 10,000: per event queue, that is the difference between kilobytes and
 * megabytes once thousands of events have had their on-sale.
 */
export const QUEUE_EVENTS_MAX_LENGTH = 100;
