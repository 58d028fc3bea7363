import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { sleep } from './wait.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** How `pnpm start` runs each service: its bundle and V8 flags (scripts/services.json, read by both). */
interface ServiceLaunch {
  readonly bundle: string;
  readonly nodeFlags: readonly string[];
}
const SERVICES = JSON.parse(readFileSync(`${ROOT}scripts/services.json`, 'utf8')) as Record<
  Service,
  ServiceLaunch
>;

export type Service = 'api' | 'worker';

/**
 * `pnpm build`: bundles the services (about a second). Run once per suite (a vitest global setup,
 * the bench's start), so every process started afterwards runs what production runs.
 */
export function buildServices(): void {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'inherit' });
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ServiceProcessOptions {
  /** The process's whole environment, besides PATH and HOME: nothing leaks in from the caller's. */
  readonly env: Record<string, string>;
  /** Receives the process's stdout and stderr. */
  readonly logFile: string;
  /** Answers 200 once the process serves: the api's /ready, a worker's /metrics. */
  readonly readyUrl: string;
  /** Node options before the bundle (e.g. --cpu-prof), after the service's own V8 flags. */
  readonly nodeArgs?: readonly string[];
  /**
   * What to run in place of the service's bundle, with the service's V8 flags (the bench's
   * baselines, servers of their own measured against the system).
   */
  readonly entry?: readonly string[];
}

/** One real api or worker process, started from its production bundle, logging to a file. */
export class ServiceProcess {
  readonly exited: Promise<Exit>;
  /** How it ended, once it has. */
  exit: Exit | undefined;
  private readonly child: ChildProcess;
  private ready = false;
  /** Whether an error already carried the end of its log (so `ProcessSystem.stop` need not print it). */
  logReported = false;

  constructor(
    readonly service: Service,
    private readonly options: ServiceProcessOptions,
  ) {
    const launch = SERVICES[service];
    const log = openSync(options.logFile, 'a');
    try {
      this.child = spawn(
        process.execPath,
        [...launch.nodeFlags, ...(options.nodeArgs ?? []), ...(options.entry ?? [launch.bundle])],
        {
          cwd: ROOT,
          env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...options.env },
          stdio: ['ignore', log, log],
        },
      );
    } finally {
      closeSync(log);
    }
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      }),
    );
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get logFile(): string {
    return this.options.logFile;
  }

  /** `host:port` of its HTTP listener (the api's port, a worker's metrics port): what Prometheus scrapes. */
  get listener(): string {
    return new URL(this.options.readyUrl).host;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Whether it has answered its readiness check (once it has, it counts as started for good). */
  async isReady(): Promise<boolean> {
    if (this.ready) return true;
    this.ready = await fetch(this.options.readyUrl, { signal: AbortSignal.timeout(2_000) }).then(
      async (response) => {
        await response.body?.cancel();
        return response.ok;
      },
      () => false,
    );
    return this.ready;
  }

  /** Waits until it is ready; fails at once, with the end of its log, if it exits first. */
  async waitReady(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) {
        const exit = await this.exited;
        this.logReported = true;
        throw new Error(
          `${this.service} ${this.pid} exited (${exit.signal ?? exit.code}) before it was ready:\n${await this.logTail()}`,
        );
      }
      if (await this.isReady()) return;
      if (Date.now() > deadline)
        throw new Error(
          `${this.service} ${this.pid} not ready after ${timeoutMs} ms:\n${await this.logTail()}`,
        );
      await sleep(100);
    }
  }

  /** Lines of this process's JSON log with this message. */
  async logCount(message: string): Promise<number> {
    const needle = `"msg":"${message}"`;
    const log = await readFile(this.logFile, 'utf8').catch(() => '');
    return log.split('\n').filter((line) => line.includes(needle)).length;
  }

  async logTail(lines = 20): Promise<string> {
    const log = await readFile(this.logFile, 'utf8').catch(() => '');
    return log.trimEnd().split('\n').slice(-lines).join('\n');
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** Sends `signal` and waits for the exit; fails if the process outlives `timeoutMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<Exit> {
    if (!this.running) return this.exited;
    this.signal(signal);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${this.service} ${this.pid} still running ${timeoutMs} ms after ${signal}`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
