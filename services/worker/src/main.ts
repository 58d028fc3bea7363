import { createDb, createLogger, loadConfig, prepareDatabase, retryUntilReady } from '@ticketing/shared';
import { createWorker } from './worker.js';

const config = loadConfig();
const log = createLogger({ level: config.logLevel, name: 'worker' });
await retryUntilReady(() => prepareDatabase(config.databaseUrl), { log, what: 'Postgres' });
// One connection per event being drained, and a spare for the scan and the reconciler.
const db = createDb(config.databaseUrl, {
  poolSize: config.workerConcurrency + 2,
  idleInTransactionTimeoutMs: config.dbIdleInTransactionTimeoutMs,
});
const worker = createWorker({ config, db, log });
await worker.start();

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'worker stopping');
  await worker.close();
  await db.destroy();
  log.info('worker stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
