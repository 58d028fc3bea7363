/** What the plain BullMQ baseline's api and worker agree on. */
export const PLAIN_PREFIX = 'plain';
export const plainQueueName = (eventId: string): string => `event-{${eventId}}`;
/** The project's own job options (retries, completed jobs removed at once), for a like-for-like Redis. */
export const PLAIN_JOB_OPTIONS = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 200 },
  removeOnComplete: true,
  removeOnFail: { age: 24 * 3600, count: 1_000 },
} as const;

/** BullMQ opens its own connections (a blocking one for each worker) from these options. */
export function plainConnection(redisUrl: string): { host: string; port: number } {
  const url = new URL(redisUrl);
  return { host: url.hostname, port: Number(url.port || '6379') };
}
