/** Why a connection failed, in a few words: the message, or the code (Node's refused connections to
 * every address of a name are an AggregateError with neither). */
export function failureReason(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return failureReason(error.errors[0]);
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return error.message !== '' ? error.message : typeof code === 'string' ? code : error.name;
  }
  return String(error);
}

/**
 * Start-up may race the database or Redis (compose starts everything at once), or a newcomer may not
 * have one yet: try again for a while. Used by the services' entry points for Postgres and by
 * `waitForRedis`. The first failure is one line for a person (what is missing, why, and
 * `hint`: how to get one), the attempts after it are quiet (debug); the last failure is thrown.
 */
export async function retryUntilReady<T>(
  task: () => Promise<T>,
  options: {
    log: { warn: (obj: object, msg: string) => void; debug?: (obj: object, msg: string) => void };
    what: string;
    hint?: string;
    attempts?: number;
    delayMs?: number;
  },
): Promise<T> {
  const attempts = options.attempts ?? 30;
  const delayMs = options.delayMs ?? 1_000;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await task();
    } catch (err) {
      if (attempt >= attempts) throw err;
      if (attempt === 1) {
        const waiting = `waiting up to ${Math.round((attempts * delayMs) / 1000)} s`;
        const hint = options.hint === undefined ? '' : ` ${options.hint}`;
        options.log.warn({}, `${options.what} is not answering (${failureReason(err)}); ${waiting}.${hint}`);
      } else options.log.debug?.({ err, attempt }, `${options.what} not ready, retrying`);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}
