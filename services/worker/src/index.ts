export { createWorker, type TicketingWorker, type WorkerDeps } from './worker.js';
