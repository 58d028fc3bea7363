import {
  clientLists,
  eventLeaseKey,
  parseLeaseHolder,
  workerOfConnection,
  type LeaseHolder,
  type RedisClient,
} from '@ticketing/shared';

/** A worker process as Bull Board lists a queue's workers. */
export interface DashboardWorker {
  /** Redis client id of the worker's command connection. */
  readonly id: string;
  readonly name: string;
  readonly addr: string;
  /** Seconds since the connection was opened. */
  readonly age: number;
}

interface ConnectedWorker {
  readonly id: string;
  /** host:pid */
  readonly worker: string;
  readonly addr: string;
  readonly age: number;
}

/** The `key=value` fields of each line of `CLIENT LIST`. */
export function parseClientList(text: string): Map<string, string>[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map(
      (line) =>
        new Map(
          line
            .trim()
            .split(' ')
            .map((field) => {
              const equals = field.indexOf('=');
              return [field.slice(0, equals), field.slice(equals + 1)] as const;
            }),
        ),
    );
}

const clock = (ms: number): string => new Date(ms).toISOString().slice(11, 19);

/**
 * Who drains the event queues, as the queue dashboard shows it. Every worker process drains every
 * event queue, through one shared connection and without BullMQ's per-queue blocking connection, so
 * BullMQ's own worker list (connections named after one queue) is always empty. Instead: the worker
 * processes connected to Redis (their command connections are named after host and pid), and for
 * each event, the process holding its lease (the one draining it now) and since when. Read together
 * on each refresh of the dashboard's queue list, so a poll costs no more than before.
 */
export class WorkerRoster {
  private connected: ConnectedWorker[] = [];
  private holders = new Map<string, LeaseHolder | 'unknown'>();

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  async refresh(eventIds: readonly string[]): Promise<void> {
    const [lists, leases] = await Promise.all([
      clientLists(this.redis),
      Promise.all(eventIds.map((eventId) => this.redis.get(eventLeaseKey(this.prefix, eventId)))),
    ]);
    // On a cluster a worker process has a connection to each master: it is listed once.
    const seen = new Set<string>();
    this.connected = lists.flatMap(parseClientList).flatMap((client) => {
      const worker = workerOfConnection(this.prefix, client.get('name') ?? '');
      if (worker !== undefined && seen.has(worker)) return [];
      if (worker !== undefined) seen.add(worker);
      return worker === undefined
        ? []
        : [
            {
              id: client.get('id') ?? '',
              worker,
              addr: client.get('addr') ?? '',
              age: Number(client.get('age') ?? 0),
            },
          ];
    });
    this.holders = new Map();
    eventIds.forEach((eventId, index) => {
      const value = leases[index] ?? null;
      // A lease of a worker from before leases named their holder.
      if (value !== null) this.holders.set(eventId, parseLeaseHolder(value) ?? 'unknown');
    });
  }

  /** One line on who drains the event's queue now. */
  describe(eventId: string): string {
    const holder = this.holders.get(eventId);
    if (holder === 'unknown') return 'Drained now by a worker process of an older version';
    if (holder !== undefined) return `Drained by worker ${holder.worker} since ${clock(holder.since)} UTC`;
    const count = this.connected.length;
    return count === 0
      ? 'No worker process is connected: purchases wait until one starts'
      : `Not being drained: the next purchase wakes one of ${count} worker process${count === 1 ? '' : 'es'}`;
  }

  /**
   * The worker processes that drain the event's queue: each one connected takes it when woken; the
   * lease holder, first, drains it now.
   */
  workersOf(eventId: string): DashboardWorker[] {
    const holder = this.holders.get(eventId);
    const draining = typeof holder === 'object' ? holder : undefined;
    const entry = (client: ConnectedWorker, what: string): DashboardWorker => ({
      id: client.id,
      name: `${client.worker} (${what})`,
      addr: client.addr,
      age: client.age,
    });
    if (draining === undefined) return this.connected.map((client) => entry(client, 'ready'));
    const since = `since ${clock(draining.since)} UTC`;
    const holding = this.connected.filter((client) => client.worker === draining.worker);
    const others = this.connected.filter((client) => client.worker !== draining.worker);
    return [
      ...(holding.length > 0
        ? holding.map((client) => entry(client, `draining ${since}`))
        : // Its connection is gone (the process died or lost Redis); the lease lapses on its own.
          [
            {
              id: `lease:${draining.worker}`,
              name: `${draining.worker} (holds the lease ${since}, not connected)`,
              addr: draining.worker,
              age: Math.round((Date.now() - draining.since) / 1000),
            },
          ]),
      ...others.map((client) => entry(client, 'ready')),
    ];
  }
}
