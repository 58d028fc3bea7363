import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Config, Database } from '@ticketing/shared';
import type { Kysely } from 'kysely';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

const ENTRY = {
  api: 'services/api/src/server.ts',
  worker: 'services/worker/src/main.ts',
} as const;

/** A real api or worker process, as `pnpm start:api` / `pnpm start:worker` run it. */
export interface ServiceProcess {
  readonly child: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Sends SIGTERM (what `docker stop` and Ctrl-C send) and waits for the process to end. */
  stop(): Promise<number | null>;
}

/** The settings that put a spawned process on a test's own database and key prefix. */
export const serviceEnv = (config: Config): Record<string, string> => ({
  DATABASE_URL: config.databaseUrl,
  REDIS_URL: config.redisUrl,
  QUEUE_PREFIX: config.queuePrefix,
  LOG_LEVEL: 'warn',
});

export function spawnService(service: keyof typeof ENTRY, env: Record<string, string>): ServiceProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY[service]], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
  return {
    child,
    exited,
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Runs a service that is expected to end by itself (a refused start), with what it wrote to stderr. */
export function runUntilExit(
  service: keyof typeof ENTRY,
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', ENTRY[service]],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: timeoutMs },
      (_error, _stdout, stderr) => resolve({ code: child.exitCode, stderr }),
    );
  });
}

export { freePort, waitForReady } from '@ticketing/shared/testing';

export async function waitUntilNothingQueued(
  db: Kysely<Database>,
  eventId: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const queued = await db
      .selectFrom('purchases')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('eventId', '=', eventId)
      .where('status', '=', 'queued')
      .executeTakeFirstOrThrow();
    if (queued.count === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('purchases were still queued after the timeout');
}
