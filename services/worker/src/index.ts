export { createWorker, type TicketingWorker, type WorkerDeps } from './worker.js';
export { startMetricsServer, type MetricsServer } from './metrics/metrics-server.js';
export { workerRegistry } from './metrics/metrics.js';
export { reconcile } from './recovery/reconciler.js';
