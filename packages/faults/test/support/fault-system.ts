import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { PostgresCluster } from './postgres-cluster.js';
import { freePort, sleep, waitFor } from '@ticketing/shared/testing';
import { RedisServer } from './redis-server.js';
import { ServiceProcess, type Role } from './service-process.js';

export const QUEUE_PREFIX = 'faults';

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
 * The whole system as separate processes, on a Postgres cluster and a Redis server of its own: an api
 * and `workers` worker processes. Every fault the suite injects is a method here.
 */
export class FaultSystem {
  private readonly processes: ServiceProcess[] = [];
  api!: ServiceProcess;
  readonly workers: ServiceProcess[] = [];
  /** Direct access to the books, for the audit. */
  readonly db: pg.Pool;

  private constructor(
    readonly postgres: PostgresCluster,
    readonly redis: RedisServer,
    private readonly apiPort: number,
    private readonly logDir: string,
    private readonly env: Record<string, string>,
  ) {
    this.db = new pg.Pool({ connectionString: postgres.url('ticketing'), max: 4 });
    this.db.on('error', () => {});
    this.db.on('connect', (client) => client.on('error', () => {}));
  }

  static async start(options: { workers?: number; env?: Record<string, string> } = {}): Promise<FaultSystem> {
    const [pgPort, redisPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    const logDir = await mkdtemp(join(tmpdir(), 'ticketing-faults-logs-'));
    const postgres = await PostgresCluster.create(pgPort);
    const redis = await RedisServer.create(redisPort).catch(async (error: unknown) => {
      await postgres.destroy();
      throw error;
    });
    const env = {
      HOST: '127.0.0.1',
      PORT: String(apiPort),
      DATABASE_URL: postgres.url('ticketing'),
      REDIS_URL: redis.url,
      QUEUE_PREFIX,
      ...FAST_RECOVERY,
      ...options.env,
    };
    const system = new FaultSystem(postgres, redis, apiPort, logDir, env);
    try {
      await system.startApi();
      for (let index = 0; index < (options.workers ?? 2); index += 1) system.startWorker();
    } catch (error) {
      await system.destroy();
      throw error;
    }
    return system;
  }

  get url(): string {
    return `http://127.0.0.1:${this.apiPort}`;
  }

  private spawn(role: Role): ServiceProcess {
    // The api logs every request at info; warnings are what the suite reads from it.
    const env = { ...this.env, LOG_LEVEL: role === 'api' ? 'warn' : 'info' };
    const service = new ServiceProcess(
      role,
      env,
      join(this.logDir, `${role}-${this.processes.length + 1}.log`),
    );
    this.processes.push(service);
    return service;
  }

  /** Starts the api and waits until it answers /ready. */
  async startApi(): Promise<void> {
    this.api = this.spawn('api');
    await waitFor('the api to be ready', async () => (await fetch(`${this.url}/ready`)).ok, 60_000);
  }

  startWorker(): ServiceProcess {
    const worker = this.spawn('worker');
    this.workers.push(worker);
    return worker;
  }

  /** Replaces a worker process by a new one; returns the one that left. */
  replaceWorker(worker: ServiceProcess): ServiceProcess {
    this.workers.splice(this.workers.indexOf(worker), 1);
    this.startWorker();
    return worker;
  }

  /** Every process this system ever started, alive or not (for "nothing crashed" checks). */
  get started(): readonly ServiceProcess[] {
    return this.processes;
  }

  /** Lines with this message in the logs of every process of a role, past and present. */
  async logCount(role: Role, message: string): Promise<number> {
    const counts = await Promise.all(
      this.processes.filter((service) => service.role === role).map((service) => service.logCount(message)),
    );
    return counts.reduce((sum, count) => sum + count, 0);
  }

  /** Workers that finished starting (they drain events now) and are still alive. */
  async startedWorkers(): Promise<ServiceProcess[]> {
    const started = await Promise.all(
      this.workers.map(async (worker) => worker.running && (await worker.logCount('worker started')) > 0),
    );
    return this.workers.filter((_worker, index) => started[index]);
  }

  /** Creates events through the api (as an operator would). */
  async createEvents(count: number, totalTickets: number): Promise<string[]> {
    const ids: string[] = [];
    for (let index = 0; index < count; index += 1) {
      const response = await fetch(`${this.url}/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: `faults #${index + 1}`, totalTickets, priceCents: 1000 }),
      });
      if (response.status !== 201)
        throw new Error(`POST /events: ${response.status} ${await response.text()}`);
      ids.push(((await response.json()) as { id: string }).id);
    }
    return ids;
  }

  /** Ids of the jobs BullMQ holds as active (taken by a worker, not finished) in every event queue. */
  async activeJobs(): Promise<Set<string>> {
    const keys = (await this.redis.cli('--scan', '--pattern', `${QUEUE_PREFIX}:event-*:active`))
      .split('\n')
      .filter(Boolean);
    const ids = new Set<string>();
    for (const key of keys) {
      for (const id of (await this.redis.cli('lrange', key, '0', '-1')).split('\n'))
        if (id !== '') ids.add(id);
    }
    return ids;
  }

  /** Stops everything, kills what will not stop, and removes every file it made. */
  async destroy(): Promise<void> {
    await Promise.all(
      this.processes.map(async (service) => {
        service.signal('SIGCONT');
        await service.stop('SIGTERM', 10_000).catch(() => service.stop('SIGKILL', 5_000));
      }),
    );
    await this.db.end().catch(() => undefined);
    await this.redis.destroy();
    await this.postgres.destroy();
    if (process.env.FAULTS_KEEP_LOGS === undefined) await rm(this.logDir, { recursive: true, force: true });
    else console.log(`fault-suite logs kept in ${this.logDir}`);
    await sleep(0);
  }
}

/** A test file's system: started before its tests, destroyed (with everything it made) after them. */
export function useFaultSystem(options: { workers?: number } = {}): () => FaultSystem {
  let system: FaultSystem | undefined;
  beforeAll(async () => {
    system = await FaultSystem.start(options);
  });
  afterAll(async () => {
    await system?.destroy();
  });
  return () => {
    if (system === undefined) throw new Error('The fault system is not running');
    return system;
  };
}
