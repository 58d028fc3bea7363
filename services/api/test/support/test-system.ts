import { createDb, createLogger, createTestEnvironment, type Config } from '@ticketing/shared/testing';
import { createWorker, type TicketingWorker } from '@ticketing/worker';
import { buildApp } from '../../src/app.js';
import { closeAppDeps, openAppDeps, type App, type AppDeps } from '../../src/deps.js';

/**
 * The whole system in one test process, on the real Postgres and Redis: an app answering
 * `inject()` calls, a worker processing the queues, and a database of the test file's own.
 */
export interface TestSystem {
  readonly app: App;
  readonly deps: AppDeps;
  readonly worker: TicketingWorker;
  readonly config: Config;
  close(): Promise<void>;
}

export async function startTestSystem(env: Record<string, string> = {}): Promise<TestSystem> {
  const environment = await createTestEnvironment(env);
  const { config } = environment;
  const deps = await openAppDeps(config);
  const app = buildApp(deps);
  await app.ready();
  const workerDb = createDb(config.databaseUrl, { poolSize: 4 });
  const worker = createWorker({
    config,
    db: workerDb,
    log: createLogger({ level: 'silent', name: 'worker' }),
  });
  await worker.start();
  return {
    app,
    deps,
    worker,
    config,
    async close() {
      await app.close();
      await worker.close();
      await workerDb.destroy();
      await closeAppDeps(deps);
      await environment.destroy();
    },
  };
}
