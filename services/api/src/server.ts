import {
  configOrExit,
  createLogger,
  loadApiConfig,
  prepareDatabaseOrExit,
  redisOrExit,
} from '@ticketing/shared';
import cluster from 'node:cluster';
import { buildApp } from './app.js';
import { runCluster } from './cluster.js';
import { closeAppDeps, openAppDeps } from './compose.js';

const config = configOrExit(() => loadApiConfig());
const log = createLogger({ level: config.logLevel, name: 'api' });
if (cluster.isPrimary) {
  if (config.adminToken === undefined)
    log.warn({ host: config.host }, 'ADMIN_TOKEN is not set: the admin routes are open to this machine');
  // Migrated once, before any process serves. A single process waits for Redis meanwhile, so that a
  // machine with neither hears about both at once.
  await Promise.all([
    prepareDatabaseOrExit(config.databaseUrl, log),
    config.apiProcesses > 1 ? undefined : redisOrExit(config, log),
  ]);
}
if (config.apiProcesses > 1 && cluster.isPrimary) runCluster(config.apiProcesses, log);
else await serve();

async function serve(): Promise<void> {
  await redisOrExit(config, log);
  const deps = await openAppDeps(config);
  const app = buildApp(deps, { loggerInstance: log });
  await app.listen({ port: config.port, host: config.host });

  let stopping = false;
  async function shutdown(signal: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'api stopping');
    // Stop accepting requests and let the ones in flight finish, then release the backing services. A
    // keep-alive connection whose request finishes during the close would otherwise stay open until its
    // keep-alive timeout (72 s), holding the shutdown: close each as soon as it is idle.
    const idleSweep = setInterval(() => app.server.closeIdleConnections(), 50);
    await app.close();
    clearInterval(idleSweep);
    await closeAppDeps(deps);
    log.info('api stopped');
    process.exit(0);
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}
