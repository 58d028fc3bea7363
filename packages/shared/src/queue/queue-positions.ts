import type { RedisClient } from '../redis/client.js';
import { eventQueueName, type PurchaseJob } from './queues.js';
import { LuaScript } from '../redis/lua-script.js';

/**
 * Live queue positions, answered in O(log n) per poll. Per event, Redis keeps a sorted set of the
 * purchases still undecided, scored by their Postgres `seq`: the api adds a purchase when it enqueues
 * it, and a worker, after committing a batch decided up to some `seq`, removes everything at or below
 * it (and so also what an earlier batch failed to remove). "Purchases ahead of me" is then a ZCOUNT
 * below my own `seq`. The same script keeps the event's pace: purchases decided so far and a smoothed
 * rate, which turns a position into an estimated wait.
 *
 * Positions are an estimate for people; Postgres decides. If Redis loses these keys a position reads
 * too low until the purchases ahead are decided, and then it is exact again.
 */
export const positionsKey = (prefix: string, eventId: string): string =>
  `${prefix}:${eventQueueName(eventId)}:positions`;

export const paceKey = (prefix: string, eventId: string): string =>
  `${prefix}:${eventQueueName(eventId)}:pace`;

/** Weight of the newest batch in the smoothed rate. */
const RATE_SMOOTHING = 0.3;

// KEYS: positions, pace. ARGV: decided up to this seq, now (ms), batch duration (ms), smoothing.
const RECORD_DECIDED = new LuaScript(`
local decided = redis.call('zremrangebyscore', KEYS[1], '-inf', ARGV[1])
if decided > 0 then
  redis.call('hincrby', KEYS[2], 'decided', decided)
  local sample = decided * 1000 / math.max(tonumber(ARGV[3]), 1)
  local previous = tonumber(redis.call('hget', KEYS[2], 'rate'))
  local rate = sample
  if previous then rate = previous + tonumber(ARGV[4]) * (sample - previous) end
  redis.call('hset', KEYS[2], 'rate', tostring(rate), 'at', ARGV[2])
end
return decided`);

/** Records purchases as waiting in their event's line (all of one event; cancellations are not places). */
export async function recordQueued(
  redis: RedisClient,
  prefix: string,
  jobs: readonly PurchaseJob[],
): Promise<void> {
  const first = jobs[0];
  if (first === undefined) return;
  await redis.zadd(positionsKey(prefix, first.eventId), ...jobs.flatMap((job) => [job.seq, job.purchaseId]));
}

/** After a worker committed every request of the event up to `upToSeq`; returns how many left the line. */
export async function recordDecided(
  redis: RedisClient,
  prefix: string,
  batch: { eventId: string; upToSeq: number; durationMs: number; now?: number },
): Promise<number> {
  const decided = await RECORD_DECIDED.run(
    redis,
    [positionsKey(prefix, batch.eventId), paceKey(prefix, batch.eventId)],
    [batch.upToSeq, batch.now ?? Date.now(), Math.round(batch.durationMs), RATE_SMOOTHING],
  );
  return Number(decided);
}

export interface EventPace {
  /** Purchases of the event decided so far (as far as these keys know). */
  readonly decided: number;
  /** Smoothed purchases decided per second while the event was being drained; undefined before any. */
  readonly perSecond: number | undefined;
}

export interface QueuePosition {
  /** Purchases of the same event accepted before this one and not decided yet. */
  readonly ahead: number;
  /** When the event's recent rate is known: how long until this purchase is decided, roughly. */
  readonly estimatedWaitMs: number | undefined;
}

const toPace = ([decided, rate]: (string | null)[]): EventPace => {
  const perSecond = rate === null || rate === undefined ? undefined : Number(rate);
  return {
    decided: Number(decided ?? 0),
    perSecond: perSecond !== undefined && Number.isFinite(perSecond) && perSecond > 0 ? perSecond : undefined,
  };
};

const estimatedWait = (ahead: number, pace: (string | null)[]): number | undefined => {
  const { perSecond } = toPace(pace);
  // The purchase itself is decided one step after those ahead of it.
  return perSecond === undefined ? undefined : Math.round(((ahead + 1) / perSecond) * 1000);
};

/**
 * One round trip: the place of a queued purchase and the pace of its event. (Two plain commands on an
 * auto-pipelining connection share a write; an explicit pipeline would copy every loaded script.)
 * `entrantsAhead`: the entrants of the event's draw still undecided, who come before every purchase in
 * these keys (they are not in them: they have no job).
 */
export async function readQueuePosition(
  redis: RedisClient,
  prefix: string,
  purchase: { eventId: string; seq: number },
  entrantsAhead = 0,
): Promise<QueuePosition> {
  const [queued, pace] = await Promise.all([
    redis.zcount(positionsKey(prefix, purchase.eventId), '-inf', `(${purchase.seq}`),
    redis.hmget(paceKey(prefix, purchase.eventId), 'decided', 'rate'),
  ]);
  const ahead = entrantsAhead + queued;
  return { ahead, estimatedWaitMs: estimatedWait(ahead, pace) };
}

/** The place of an entrant of the draw, counted by the caller from the draw's keys, with its estimate. */
export async function readDrawPosition(
  redis: RedisClient,
  prefix: string,
  eventId: string,
  ahead: number,
): Promise<QueuePosition> {
  const pace = await redis.hmget(paceKey(prefix, eventId), 'decided', 'rate');
  return { ahead, estimatedWaitMs: estimatedWait(ahead, pace) };
}

/** The pace of several events, in one round trip. */
export async function readPaces(
  redis: RedisClient,
  prefix: string,
  eventIds: readonly string[],
): Promise<EventPace[]> {
  const paces = await Promise.all(
    eventIds.map((eventId) => redis.hmget(paceKey(prefix, eventId), 'decided', 'rate')),
  );
  return paces.map(toPace);
}
