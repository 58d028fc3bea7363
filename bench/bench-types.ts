import type { LatencySummary } from '../packages/loadtest/src/stats.js';

/** CPU seconds (or µs per unit of work) of each part of the system. */
export interface CpuSplit {
  readonly api: number;
  readonly worker: number;
  readonly postgres: number;
  readonly redis: number;
  readonly client: number;
}

export const CPU_PARTS = ['api', 'worker', 'postgres', 'redis', 'client'] as const;

/** µs of CPU per unit of work between two readings of the cumulative CPU seconds. */
export function cpuPerUnit(from: CpuSplit, to: CpuSplit, units: number): CpuSplit {
  const per = (part: keyof CpuSplit): number =>
    Math.round(((to[part] - from[part]) * 1e6) / Math.max(1, units));
  return {
    api: per('api'),
    worker: per('worker'),
    postgres: per('postgres'),
    redis: per('redis'),
    client: per('client'),
  };
}

/** CPU outside the load client: what the system itself spends. */
export const systemCpu = (cpu: CpuSplit): number => cpu.api + cpu.worker + cpu.postgres + cpu.redis;

/** A running system under test, as a scenario sees it. */
export interface BenchSystem {
  readonly url: string;
  readonly redisUrl: string;
  readonly queuePrefix: string;
  /** Cumulative CPU seconds of each part so far. */
  cpu(): Promise<CpuSplit>;
  /** Starts worker processes and waits until they are ready (a backlog scenario starts them late). */
  startWorkers(count: number): Promise<void>;
  /** Runs a query on the system's own database (counted as Postgres CPU: keep it cheap). */
  query<T extends object>(text: string): Promise<T[]>;
}

/** One line of RESULTS.md: one measured phase of a scenario. */
export interface ResultRow {
  readonly name: string;
  readonly what: string;
  /** Units of work measured: purchases, or requests for the floor, or reads. */
  readonly units: number;
  readonly unit: 'purchase' | 'request' | 'read' | 'cancellation';
  readonly perSecond: number;
  readonly latencyMs?: LatencySummary;
  readonly submitLatencyMs?: LatencySummary;
  /** µs per unit of work while it ran. */
  readonly cpuMicros: CpuSplit;
  readonly peakRssMb?: { readonly api: number; readonly worker: number };
  readonly redisMb?: number;
  readonly outcomes?: string;
  readonly errors: number;
  readonly audit: string;
  /** An on-sale: from `salesStartAt` to the first decision announced. */
  readonly startToFirstDecisionMs?: number;
}
