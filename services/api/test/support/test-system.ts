import {
  createDb,
  createLogger,
  createTestEnvironment,
  type Config,
  type TestEnvironment,
} from '@ticketing/shared/testing';
import { createWorker, type TicketingWorker } from '@ticketing/worker';
import { afterAll, beforeAll } from 'vitest';
import { buildApp } from '../../src/app.js';
import type { App, AppDeps } from '../../src/app-types.js';
import { closeAppDeps, openAppDeps } from '../../src/compose.js';
import { conformanceProblems, recordExchanges, type Exchange } from './openapi-conformance.js';

/**
 * The whole system in one test process, on the real Postgres and Redis: an app answering
 * `inject()` calls, a worker processing the queues, and a database of the test file's own.
 */
export interface TestSystem {
  readonly app: App;
  readonly deps: AppDeps;
  readonly config: Config;
  /** Its database and key prefix, for processes that join it. */
  readonly environment: TestEnvironment;
  /** Every `app.inject()` exchange so far; checked against openapi.json by `close()`. */
  readonly exchanges: readonly Exchange[];
  /** The running in-process worker (replaced by `startWorker`). */
  readonly worker: TicketingWorker;
  stopWorker(): Promise<void>;
  startWorker(): Promise<void>;
  close(): Promise<void>;
}

export async function startTestSystem(
  env: Record<string, string> = {},
  options: { worker?: boolean } = {},
): Promise<TestSystem> {
  const environment = await createTestEnvironment(env);
  const { config } = environment;
  const deps = await openAppDeps(config);
  const app = buildApp(deps);
  // Every exchange of the file's tests is checked against openapi.json when the system closes.
  const exchanges = recordExchanges(app);
  await app.ready();
  const workerDb = createDb(config.databaseUrl, { poolSize: 4 });
  const log = createLogger({ level: 'silent', name: 'worker' });
  let worker: TicketingWorker | undefined;

  const system: TestSystem = {
    app,
    deps,
    config,
    environment,
    exchanges,
    get worker() {
      if (worker === undefined) throw new Error('the in-process worker is not running');
      return worker;
    },
    async stopWorker() {
      await worker?.close();
      worker = undefined;
    },
    async startWorker() {
      await worker?.close();
      worker = createWorker({ config, db: workerDb, log });
      await worker.start();
    },
    async close() {
      await app.close();
      await system.stopWorker();
      await workerDb.destroy();
      await closeAppDeps(deps);
      await environment.destroy();
      const problems = await conformanceProblems(exchanges);
      if (problems.length > 0)
        throw new Error(
          `The API and openapi.json disagree (mend the route's schema, then pnpm openapi):\n${problems.join('\n')}`,
        );
    },
  };
  if (options.worker !== false) await system.startWorker();
  return system;
}

/**
 * A test file's system: started when the file is loaded (awaited at its top, so that the file's
 * helpers use it as a plain value) and closed after the file's tests. Hooks run in reverse, so the
 * file's own `afterAll`s, registered later, stop what they started on it first.
 */
export async function useTestSystem(
  env: Record<string, string> = {},
  options: { worker?: boolean } = {},
): Promise<TestSystem> {
  const system = await startTestSystem(env, options);
  afterAll(() => system.close());
  return system;
}

/**
 * A system of its own for one describe block that needs other settings than the file's: started
 * before the block's tests and closed after them. Tests read it through the returned function.
 */
export function useBlockSystem(
  env: Record<string, string> = {},
  options: { worker?: boolean } = {},
): () => TestSystem {
  let system: TestSystem | undefined;
  beforeAll(async () => {
    system = await startTestSystem(env, options);
  });
  afterAll(async () => {
    await system?.close();
  });
  return () => {
    if (system === undefined) throw new Error("the block's system has not started");
    return system;
  };
}
