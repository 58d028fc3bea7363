import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AppliedRound } from '../drain/drainer.js';
import { connectionErrorsCounter, postgresHostGauge } from '@ticketing/shared';

/**
 * The worker's Prometheus metrics. Counters are process-wide (a process may run several workers, as
 * the tests do), so they live in one registry of the module; `metrics-server.ts` serves it.
 */
export const workerRegistry = new Registry();
collectDefaultMetrics({ register: workerRegistry });

export const PURCHASE_OUTCOMES = [
  'confirmed',
  'held',
  'waitlisted',
  'rejected',
  'promoted',
  'cancelled',
  'expired',
] as const;
export type PurchaseOutcome = (typeof PURCHASE_OUTCOMES)[number];

/** Counted once a round has committed, from what it announces. */
export const purchasesDecided = new Counter({
  name: 'ticketing_purchases_decided_total',
  help: 'Purchases decided by this worker, by outcome (promoted: confirmed or held from the waiting list; expired: holds that ran out unpaid)',
  labelNames: ['outcome'] as const,
  registers: [workerRegistry],
});

export const batchDuration = new Histogram({
  name: 'ticketing_worker_batch_duration_seconds',
  help: 'Time to apply one round (a batch of one or more event queues): its transaction; its jobs are completed after, overlapping the next round',
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [workerRegistry],
});

export const roundJobs = new Histogram({
  name: 'ticketing_worker_round_jobs',
  help: 'Jobs one round applied (its size: up to the batch size for each event it took)',
  buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096],
  registers: [workerRegistry],
});

export const jobLatency = new Histogram({
  name: 'ticketing_worker_job_latency_seconds',
  help: 'From a job being enqueued (its purchase accepted, or cancellation requested) to the commit of the round that applied it',
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  registers: [workerRegistry],
});

export const jobsCompleted = new Counter({
  name: 'ticketing_worker_jobs_completed_total',
  help: 'Queue jobs (purchases and cancellations) applied by rounds this worker committed, then completed in Redis',
  registers: [workerRegistry],
});

export const expiriesQueued = new Counter({
  name: 'ticketing_hold_expiries_queued_total',
  help: "Holds past their time that this worker's sweep gave their expiry's place in the queue",
  registers: [workerRegistry],
});

export const reconcilerRequeued = new Counter({
  name: 'ticketing_reconciler_requeued_total',
  help: 'Jobs the reconciler re-created because Redis had lost them or they had failed',
  registers: [workerRegistry],
});

export const reconcilerRuns = new Counter({
  name: 'ticketing_reconciler_runs_total',
  help: 'Sweeps the reconciler finished (each looks for purchases and cancellations Redis lost)',
  registers: [workerRegistry],
});

connectionErrorsCounter(workerRegistry);
postgresHostGauge(workerRegistry);

// Every outcome is exported from the first scrape on, at zero, so rates work without gaps.
for (const outcome of PURCHASE_OUTCOMES) purchasesDecided.inc({ outcome }, 0);

export function recordRoundMetrics(round: AppliedRound): void {
  batchDuration.observe(round.durationMs / 1000);
  roundJobs.observe(round.jobs);
  jobsCompleted.inc(round.jobs);
  // No labels: one bucket search per job, the cheapest observation prom-client has.
  const now = Date.now();
  for (const enqueuedAt of round.enqueuedAt) jobLatency.observe(Math.max(0, now - enqueuedAt) / 1000);
  const counts = new Map<PurchaseOutcome, number>();
  for (const { status } of round.updates) counts.set(status, (counts.get(status) ?? 0) + 1);
  counts.set('confirmed', (counts.get('confirmed') ?? 0) - (round.promotions - round.heldPromotions));
  counts.set('held', (counts.get('held') ?? 0) - round.heldPromotions);
  counts.set('promoted', round.promotions);
  for (const [outcome, count] of counts) if (count > 0) purchasesDecided.inc({ outcome }, count);
}
