export { createWorker, type TicketingWorker, type WorkerDeps } from './worker.js';
export { startMetricsServer, type MetricsServer } from './metrics-server.js';
export { workerRegistry } from './metrics.js';
export { reconcile } from './reconciler.js';
