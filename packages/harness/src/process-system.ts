import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PostgresTarget } from './postgres.js';
import type { RedisTarget } from './redis.js';
import { ServiceProcess, type Exit, type Service } from './service-process.js';
import { freePort } from './wait.js';

export interface ProcessSystemOptions<P extends PostgresTarget, R extends RedisTarget> {
  readonly postgres: P;
  readonly redis: R;
  /** Settings of every process, over the harness's (loopback host, the api's port, LOG_LEVEL=warn). */
  readonly env?: Record<string, string>;
  /** Settings of one service's processes, over `env`. */
  readonly serviceEnv?: Partial<Record<Service, Record<string, string>>>;
  /** Node options of every process (e.g. --cpu-prof). */
  readonly nodeArgs?: readonly string[];
  /** What a service's processes run in place of its bundle (see `ServiceProcessOptions.entry`). */
  readonly entries?: Partial<Record<Service, readonly string[]>>;
  /** Keep the processes' logs after `stop` (and say where); also HARNESS_KEEP_LOGS=1. */
  readonly keepLogs?: boolean;
}

/**
 * The system as separate processes, as production runs it: api and worker processes from the
 * production bundles on a Postgres and a Redis target. Every api process the system starts listens on
 * the same port (one at a time), so `url` stays valid across restarts. The targets are the caller's:
 * `stop` ends the processes, not the servers.
 */
export class ProcessSystem<P extends PostgresTarget = PostgresTarget, R extends RedisTarget = RedisTarget> {
  private readonly processes: ServiceProcess[] = [];
  private currentApi: ServiceProcess | undefined;
  /** The worker processes in service (a replaced one leaves this list). */
  readonly workers: ServiceProcess[] = [];
  readonly postgres: P;
  readonly redis: R;

  private constructor(
    private readonly options: ProcessSystemOptions<P, R>,
    private readonly apiPort: number,
    private readonly logDir: string,
  ) {
    this.postgres = options.postgres;
    this.redis = options.redis;
  }

  /** Picks the api's port and a log directory; starts no process. */
  static async create<P extends PostgresTarget, R extends RedisTarget>(
    options: ProcessSystemOptions<P, R>,
  ): Promise<ProcessSystem<P, R>> {
    return new ProcessSystem(options, await freePort(), await mkdtemp(join(tmpdir(), 'ticketing-system-')));
  }

  get url(): string {
    return `http://127.0.0.1:${this.apiPort}`;
  }

  /** The api process started last. */
  get api(): ServiceProcess {
    if (this.currentApi === undefined) throw new Error('No api process was started');
    return this.currentApi;
  }

  /** Every process this system ever started, alive or not (for "nothing crashed" checks). */
  get started(): readonly ServiceProcess[] {
    return this.processes;
  }

  private spawn(service: Service, env: Record<string, string>, port: number): ServiceProcess {
    const readyPath = service === 'api' ? '/ready' : '/metrics';
    const started = new ServiceProcess(service, {
      env: {
        HOST: '127.0.0.1',
        PORT: String(this.apiPort),
        LOG_LEVEL: 'warn',
        ...this.options.postgres.env(),
        ...this.options.redis.env(),
        ...this.options.env,
        ...this.options.serviceEnv?.[service],
        ...env,
        ...(service === 'worker' ? { WORKER_METRICS_PORT: String(port) } : {}),
      },
      logFile: join(this.logDir, `${service}-${this.processes.length + 1}.log`),
      readyUrl: `http://127.0.0.1:${port}${readyPath}`,
      nodeArgs: this.options.nodeArgs,
      entry: this.options.entries?.[service],
    });
    this.processes.push(started);
    return started;
  }

  /** Starts an api process (API_PROCESSES in `env` makes it a cluster) and waits until it is ready. */
  async startApi(env: Record<string, string> = {}): Promise<ServiceProcess> {
    this.currentApi = this.spawn('api', env, this.apiPort);
    await this.currentApi.waitReady();
    return this.currentApi;
  }

  /**
   * Starts a worker process without waiting for it (`waitReady` does); its metrics port, which
   * answers once the worker drains events, is its readiness check.
   */
  async startWorker(env: Record<string, string> = {}): Promise<ServiceProcess> {
    const worker = this.spawn('worker', env, await freePort());
    this.workers.push(worker);
    return worker;
  }

  /** Starts `count` workers and waits until every one is ready. */
  async startWorkers(count: number, env: Record<string, string> = {}): Promise<ServiceProcess[]> {
    const workers = await Promise.all(Array.from({ length: count }, () => this.startWorker(env)));
    await Promise.all(workers.map((worker) => worker.waitReady()));
    return workers;
  }

  /** Takes a worker out of service and starts a new one in its place; returns the one that left. */
  async replaceWorker(worker: ServiceProcess): Promise<ServiceProcess> {
    this.workers.splice(this.workers.indexOf(worker), 1);
    await this.startWorker();
    return worker;
  }

  /** Workers that finished starting (they drain events now) and are still alive. */
  async startedWorkers(): Promise<ServiceProcess[]> {
    const started = await Promise.all(
      this.workers.map(async (worker) => worker.running && (await worker.isReady())),
    );
    return this.workers.filter((_worker, index) => started[index]);
  }

  /** Lines with this message in the logs of every process of a service, past and present. */
  async logCount(service: Service, message: string): Promise<number> {
    const counts = await Promise.all(
      this.processes
        .filter((started) => started.service === service)
        .map((started) => started.logCount(message)),
    );
    return counts.reduce((sum, count) => sum + count, 0);
  }

  /**
   * SIGTERM to every running process (woken first, if frozen), SIGKILL to any still running 10 s
   * later; returns how each of them ended, in start order. Prints the end of the log of every process
   * that exited with an error code (unless an error already showed it), and removes the logs unless
   * asked to keep them.
   */
  async stop(): Promise<Exit[]> {
    const exits = await Promise.all(
      this.processes
        .filter((service) => service.running)
        .map(async (service) => {
          service.signal('SIGCONT');
          return service.stop('SIGTERM', 10_000).catch(() => service.stop('SIGKILL', 5_000));
        }),
    );
    for (const service of this.processes) {
      const code = service.exit?.code;
      if (code === undefined || code === null || code === 0 || service.logReported) continue;
      console.error(
        `${service.service} ${service.pid} exited with code ${code}:\n${await service.logTail()}`,
      );
    }
    if (this.options.keepLogs === true || process.env.HARNESS_KEEP_LOGS !== undefined)
      console.log(`process logs kept in ${this.logDir}`);
    else await rm(this.logDir, { recursive: true, force: true });
    return exits;
  }
}
