import cluster from 'node:cluster';
import type { Logger } from '@ticketing/shared';

/** A process that dies is replaced after this pause, so a crash loop does not spin. */
const RESTART_DELAY_MS = 1_000;

/**
 * Runs `processes` api processes on one port with node:cluster: this primary accepts the connections
 * and hands them to the processes in turn. One that dies is replaced. SIGTERM or SIGINT stops them all
 * gracefully (each finishes its requests in flight), then the primary exits.
 */
export function runCluster(processes: number, log: Logger): void {
  let stopping = false;
  let running = 0;
  const start = (): void => {
    running += 1;
    cluster.fork();
  };
  cluster.on('exit', (worker, code, signal) => {
    running -= 1;
    if (stopping) {
      if (running === 0) process.exit(0);
      return;
    }
    log.warn({ pid: worker.process.pid, code, signal }, 'api process died, starting another');
    setTimeout(start, RESTART_DELAY_MS);
  });
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, processes: running }, 'api stopping');
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
    if (running === 0) process.exit(0);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  for (let index = 0; index < processes; index += 1) start();
  log.info({ processes }, 'api cluster started');
}
