import {
  configOrExit,
  createDb,
  createLogger,
  loadConfig,
  prepareDatabase,
  retryUntilReady,
} from '@ticketing/shared';
import { startMetricsServer } from './metrics/metrics-server.js';
import { workerRegistry } from './metrics/metrics.js';
import { createWorker } from './worker.js';

const config = configOrExit(() => loadConfig());
const log = createLogger({ level: config.logLevel, name: 'worker' });
await retryUntilReady(() => prepareDatabase(config.databaseUrl), { log, what: 'Postgres' });
// One connection per drain round at a time, and spares for the scan and the reconciler.
const db = createDb(config.databaseUrl, {
  poolSize: config.workerConcurrency + 2,
  idleInTransactionTimeoutMs: config.dbIdleInTransactionTimeoutMs,
});
const worker = createWorker({ config, db, log });
await worker.start();
// Prometheus scrapes the worker on a port of its own (it has no HTTP API); 0 leaves it off.
const metrics =
  config.workerMetricsPort > 0
    ? await startMetricsServer({
        registry: workerRegistry,
        port: config.workerMetricsPort,
        host: config.host,
      })
    : undefined;
if (metrics !== undefined) log.info({ port: metrics.port }, 'worker metrics listening');

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'worker stopping');
  await worker.close();
  await metrics?.close();
  await db.destroy();
  log.info('worker stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
