/**
 * The baselines `pnpm bench` measures the project against, in the same run and with the same load
 * client: each a small server of its own (its entry files here, run with the api's V8 flags).
 */
export const BASELINES = {
  /** An empty route with the api's request and response shapes: the cost of one HTTP exchange. */
  floor: { api: 'floor.ts' },
  /** One conditional update and insert per request, decided in the request: no queue at all. */
  'no-queue': { api: 'no-queue.ts' },
  /** BullMQ done plainly: `Queue.add` per request, one `Worker` per event at concurrency 1. */
  'bullmq-plain': { api: 'bullmq-plain-api.ts', worker: 'bullmq-plain-worker.ts' },
} as const satisfies Record<string, { api: string; worker?: string }>;

export type BaselineName = keyof typeof BASELINES;

/** The entry file of a baseline's service, or undefined when it has none (no worker). */
export function baselineEntry(name: BaselineName, service: 'api' | 'worker'): string | undefined {
  const files: { api: string; worker?: string } = BASELINES[name];
  const file = files[service];
  return file === undefined ? undefined : new URL(`./${file}`, import.meta.url).pathname;
}
