import type pg from 'pg';
import {
  PostgresCluster,
  ProcessSystem,
  RedisServer,
  type PostgresTarget,
  type RedisTarget,
} from '@ticketing/harness';
import { createPgPool } from '@ticketing/shared';
import { afterAll, beforeAll } from 'vitest';

/**
 * Timings that make recovery quick enough to watch many faults in a few minutes: a dead worker's
 * lease and job locks expire in seconds, and the reconciler sweeps every second.
 */
const FAST_RECOVERY: Record<string, string> = {
  RECONCILE_INTERVAL_MS: '1000',
  RECONCILE_AFTER_MS: '3000',
  WORKER_LOCK_DURATION_MS: '3000',
  WORKER_STALLED_INTERVAL_MS: '1000',
  WORKER_MAX_STALLED_COUNT: '5',
  EVENT_LEASE_MS: '2000',
  DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: '3000',
  WORKER_BATCH_SIZE: '200',
  WORKER_CONCURRENCY: '8',
};

/**
 * The whole system as separate processes, on a Postgres cluster and a Redis server of its own (the
 * harness's private kinds; or a private Redis Cluster, or a pg_auto_failover formation), so that the
 * suite can crash, stop and restart any of them.
 */
export type FaultSystem<
  R extends RedisTarget = RedisServer,
  P extends PostgresTarget = PostgresCluster,
> = ProcessSystem<P, R>;

/** Any fault system, whatever its Postgres and Redis. */
export type AnyFaultSystem = FaultSystem<RedisTarget, PostgresTarget>;

export interface FaultSystemOptions<R extends RedisTarget, P extends PostgresTarget> {
  readonly workers?: number;
  /** Settings of every process, over the fast-recovery ones. */
  readonly env?: Record<string, string>;
  /** Starts the system's Redis (a private Redis server by default). */
  readonly redis?: () => Promise<R>;
  /** Starts the system's Postgres (a private cluster by default). */
  readonly postgres?: () => Promise<P>;
}

const privateRedisServer = (): Promise<RedisServer> => RedisServer.start({ keyPrefix: 'faults' });

/** An api and `workers` worker processes on a private Postgres cluster and Redis. */
async function startFaultSystem<R extends RedisTarget, P extends PostgresTarget>(
  options: FaultSystemOptions<R, P>,
): Promise<FaultSystem<R, P>> {
  const startPostgres = options.postgres ?? (() => PostgresCluster.start() as unknown as Promise<P>);
  const postgres = await startPostgres();
  const startRedis = options.redis ?? (privateRedisServer as unknown as () => Promise<R>);
  const redis = await startRedis().catch(async (error: unknown) => {
    await postgres.destroy();
    throw error;
  });
  const system = await ProcessSystem.create({
    postgres,
    redis,
    env: { ...FAST_RECOVERY, ...options.env },
    // The api logs every request at info; warnings are what the suite reads from it.
    serviceEnv: { worker: { LOG_LEVEL: 'info' } },
    keepLogs: process.env.FAULTS_KEEP_LOGS !== undefined,
  });
  try {
    await system.startApi();
    for (let index = 0; index < (options.workers ?? 2); index += 1) await system.startWorker();
  } catch (error) {
    await destroyFaultSystem(system);
    throw error;
  }
  return system;
}

/** Stops every process, kills what will not stop, and removes the cluster, the server and the logs. */
async function destroyFaultSystem(system: AnyFaultSystem): Promise<void> {
  await system.stop();
  await system.redis.destroy();
  await system.postgres.destroy();
}

/** A test file's system: started before its tests, destroyed (with everything it made) after them. */
export function useFaultSystem<
  R extends RedisTarget = RedisServer,
  P extends PostgresTarget = PostgresCluster,
>(options: FaultSystemOptions<R, P> = {}): () => FaultSystem<R, P> {
  let system: FaultSystem<R, P> | undefined;
  beforeAll(async () => {
    system = await startFaultSystem(options);
  });
  afterAll(async () => {
    if (system !== undefined) await destroyFaultSystem(system);
  });
  return () => {
    if (system === undefined) throw new Error('The fault system is not running');
    return system;
  };
}

/** Ids of the jobs BullMQ holds as active (taken by a worker, not finished) in every event queue. */
export async function activeJobs(system: FaultSystem): Promise<Set<string>> {
  const prefix = system.redis.keyPrefix;
  const keys = (await system.redis.cli('--scan', '--pattern', `${prefix}:event-*:active`))
    .split('\n')
    .filter(Boolean);
  const ids = new Set<string>();
  for (const key of keys) {
    for (const id of (await system.redis.cli('lrange', key, '0', '-1')).split('\n'))
      if (id !== '') ids.add(id);
  }
  return ids;
}

/**
 * Every event the suite created, with its total at creation: Postgres keeps only what resizes made of
 * it, and the audit replays a resized event's queue from it.
 */
export const createdTotals = new Map<string, number>();

/**
 * Creates events through the api (as an operator would); with `holdSeconds`, events that hold; with
 * `salesStartAt`, events that pre-queue until then.
 */
export async function createEvents(
  system: AnyFaultSystem,
  count: number,
  totalTickets: number,
  { holdSeconds = 0, salesStartAt }: { holdSeconds?: number; salesStartAt?: string } = {},
): Promise<string[]> {
  const ids: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const response = await fetch(`${system.url}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: `faults #${index + 1}`,
        totalTickets,
        priceCents: 1000,
        holdSeconds,
        ...(salesStartAt !== undefined ? { salesStartAt } : {}),
      }),
    });
    if (response.status !== 201) throw new Error(`POST /events: ${response.status} ${await response.text()}`);
    const { id } = (await response.json()) as { id: string };
    createdTotals.set(id, totalTickets);
    ids.push(id);
  }
  return ids;
}

/**
 * Straight to the books in Postgres, for audits (an idle client's error must not end the run); on a
 * formation, the primary's.
 */
export function openBooks(system: AnyFaultSystem): pg.Pool {
  const db = createPgPool(system.postgres.databaseUrl, { max: 4 });
  db.on('error', () => {});
  db.on('connect', (client) => client.on('error', () => {}));
  return db;
}

/**
 * Kills a draining worker, chosen at random, with SIGKILL and starts another in its place; false when
 * no worker is draining yet (one that is still starting has nothing to lose).
 */
export async function killAndReplaceWorker(system: FaultSystem): Promise<boolean> {
  const started = await system.startedWorkers();
  const victim = started[Math.floor(Math.random() * started.length)];
  if (victim === undefined) return false;
  victim.signal('SIGKILL');
  await victim.exited;
  await system.replaceWorker(victim);
  return true;
}
