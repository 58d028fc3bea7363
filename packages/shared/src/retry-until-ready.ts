/**
 * Start-up may race the database or Redis (compose starts everything at once): try again for a
 * while. Used by the services' entry points for Postgres and by `waitForRedis`.
 */
export async function retryUntilReady<T>(
  task: () => Promise<T>,
  options: {
    log: { warn: (obj: object, msg: string) => void };
    what: string;
    attempts?: number;
    delayMs?: number;
  },
): Promise<T> {
  const attempts = options.attempts ?? 30;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await task();
    } catch (err) {
      if (attempt >= attempts) throw err;
      options.log.warn({ err, attempt }, `${options.what} not ready, retrying`);
      await new Promise((resolve) => setTimeout(resolve, options.delayMs ?? 1_000));
    }
  }
}
