import { Counter, type Registry } from 'prom-client';

/** The backing services a process holds connections to. */
export const BACKING_SERVICES = ['postgres', 'redis'] as const;
export type BackingService = (typeof BACKING_SERVICES)[number];

const counts: Record<BackingService, number> = { postgres: 0, redis: 0 };

/**
 * Connection-level errors of this process's Postgres and Redis connections (refused, reset, lost,
 * failed reconnection attempts), counted where the connections are made and exported by each
 * service's metrics. Process-wide, like the connections' own error listeners; only errors count, so
 * the hot path pays nothing.
 */
export function countConnectionError(service: BackingService): void {
  counts[service] += 1;
}

/**
 * `ticketing_connection_errors_total` in a service's registry: the counts above, by service, each
 * exported from the first scrape on (at zero), so rates work without gaps.
 */
export function connectionErrorsCounter(registry: Registry): Counter<'service'> {
  const exported: Record<BackingService, number> = { postgres: 0, redis: 0 };
  return new Counter({
    name: 'ticketing_connection_errors_total',
    help: "Connection-level errors of this process's Postgres and Redis connections (refused, reset, lost)",
    labelNames: ['service'] as const,
    registers: [registry],
    collect() {
      for (const service of BACKING_SERVICES) {
        this.inc({ service }, counts[service] - exported[service]);
        exported[service] = counts[service];
      }
    },
  });
}
