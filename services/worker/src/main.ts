import {
  configOrExit,
  createDb,
  createLogger,
  loadConfig,
  prepareDatabaseOrExit,
  redisOrExit,
} from '@ticketing/shared';
import { startMetricsServer, type MetricsServer } from './metrics/metrics-server.js';
import { workerRegistry } from './metrics/metrics.js';
import { createWorker } from './worker.js';

const config = configOrExit(() => loadConfig());
const log = createLogger({ level: config.logLevel, name: 'worker' });
// Both at once, so that a machine with neither hears about both.
await Promise.all([prepareDatabaseOrExit(config.databaseUrl, log), redisOrExit(config, log)]);
// One connection per drain round at a time, and spares for the scan and the reconciler.
const db = createDb(config.databaseUrl, {
  poolSize: config.workerConcurrency + 2,
  idleInTransactionTimeoutMs: config.dbIdleInTransactionTimeoutMs,
});
const worker = createWorker({ config, db, log });
let metrics: MetricsServer | undefined;

// Listened for before starting: a SIGTERM that arrives while the worker starts still stops it cleanly,
// once the start is done.
let stopping = false;
let started: Promise<void> = Promise.resolve();
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'worker stopping');
  await started.catch(() => undefined);
  await worker.close();
  await metrics?.close();
  await db.destroy();
  log.info('worker stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

started = (async () => {
  await worker.start();
  // Prometheus scrapes the worker on a port of its own (it has no HTTP API); 0 leaves it off.
  if (config.workerMetricsPort > 0 && !stopping) {
    metrics = await startMetricsServer({
      registry: workerRegistry,
      port: config.workerMetricsPort,
      host: config.host,
    });
    log.info({ port: metrics.port }, 'worker metrics listening');
  }
})();
await started;
