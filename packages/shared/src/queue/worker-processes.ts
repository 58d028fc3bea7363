/**
 * How operators tell worker processes apart: by host and pid. A worker's command connection carries
 * it in its Redis connection name, and each event lease the worker takes carries it in its value, so
 * the queue dashboard can say which process drains an event's queue, and since when. (Every worker
 * process drains every event queue on one shared connection, which BullMQ's own worker list, one
 * named blocking connection per queue, cannot express.)
 */
export function workerProcessName(host: string, pid: number): string {
  // Connection names may not hold spaces; host names never should, but a container's might.
  return `${host.replace(/[^\w.-]/g, '_')}:${pid}`;
}

const connectionNamePrefix = (prefix: string): string => `${prefix}:worker:`;

export const workerConnectionName = (prefix: string, worker: string): string =>
  `${connectionNamePrefix(prefix)}${worker}`;

/** The worker process a Redis connection belongs to, if it is a worker's command connection. */
export function workerOfConnection(prefix: string, connectionName: string): string | undefined {
  const start = connectionNamePrefix(prefix);
  return connectionName.startsWith(start) && connectionName.length > start.length
    ? connectionName.slice(start.length)
    : undefined;
}

/** Who holds an event's lease: the value of its key. */
export interface LeaseHolder {
  readonly worker: string;
  /** When the holder took the lease (ms since the epoch); extending it keeps this. */
  readonly since: number;
  /** Unique to this claim: only its holder may extend or release the lease. */
  readonly token: string;
}

export const encodeLeaseHolder = (holder: LeaseHolder): string =>
  JSON.stringify([holder.worker, holder.since, holder.token]);

/** Undefined for a value that is not one (an older worker's bare token, or no lease at all). */
export function parseLeaseHolder(value: string | null): LeaseHolder | undefined {
  if (value === null) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== 3) return undefined;
  const [worker, since, token] = parsed as unknown[];
  return typeof worker === 'string' && Number.isSafeInteger(since) && typeof token === 'string'
    ? { worker, since: since as number, token }
    : undefined;
}
