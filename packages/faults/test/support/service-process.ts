import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import SERVICES from '../../../../scripts/services.json' with { type: 'json' };

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
/** A service as `pnpm start` runs it: its bundle (the suite's global setup builds them) and V8 flags. */
export type Role = keyof typeof SERVICES;

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** One real api or worker process, started the way production starts it, logging to a file. */
export class ServiceProcess {
  readonly exited: Promise<Exit>;
  private readonly child: ChildProcess;

  constructor(
    readonly role: Role,
    env: Record<string, string>,
    readonly logFile: string,
  ) {
    const log = openSync(logFile, 'a');
    try {
      this.child = spawn(process.execPath, [...SERVICES[role].nodeFlags, SERVICES[role].bundle], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
        stdio: ['ignore', log, log],
      });
    } finally {
      closeSync(log);
    }
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Lines of this process's JSON log with this message. */
  async logCount(message: string): Promise<number> {
    const needle = `"msg":"${message}"`;
    const log = await readFile(this.logFile, 'utf8').catch(() => '');
    return log.split('\n').filter((line) => line.includes(needle)).length;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** Sends `signal` and waits for the exit; fails if the process outlives `timeoutMs`. */
  async stop(signal: NodeJS.Signals, timeoutMs = 30_000): Promise<Exit> {
    if (!this.running) return this.exited;
    this.signal(signal);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${this.role} ${this.pid} still running ${timeoutMs} ms after ${signal}`)),
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
