import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { waitFor } from './wait.js';

const run = promisify(execFile);

/**
 * One `redis-server` of the run's own on a loopback port, with the settings it is given: started,
 * asked with `redis-cli`, killed -9. A private server and each node of a private cluster are one.
 */
export class RedisProcess {
  private child: ChildProcess | undefined;

  constructor(
    readonly port: number,
    private readonly settings: readonly string[],
  ) {}

  /** The server process (for CPU accounting); undefined while it is down. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Starts the server (again, after `kill`) and waits until it answers. */
  async start(): Promise<void> {
    this.child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', ...this.settings],
      {
        stdio: 'ignore',
      },
    );
    await waitFor(
      `redis-server on port ${this.port} to answer`,
      async () => (await this.cli('ping')) === 'PONG',
      10_000,
      50,
    );
  }

  async cli(...args: string[]): Promise<string> {
    return (await run('redis-cli', ['-p', String(this.port), ...args])).stdout.trim();
  }

  /** kill -9: gone with everything it held in memory. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}
