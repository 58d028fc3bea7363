import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessSystem } from '@ticketing/harness';
import { createRedis, useTestEnvironment } from '@ticketing/shared/testing';
import { workerConnectionName } from '@ticketing/shared';
import { loadOptions, runLoad } from '@ticketing/loadtest';

const environment = await useTestEnvironment();
const redis: Redis = createRedis(environment.config.redisUrl, 'requests');
const system = await ProcessSystem.create({ postgres: environment.postgres, redis: environment.redis });

beforeAll(async () => {
  // Two api processes behind one port (node:cluster), three worker processes sharing the events.
  await system.startApi({ API_PROCESSES: '2' });
  await system.startWorkers(3);
}, 60_000);

afterAll(async () => {
  const clean = { code: 0, signal: null };
  expect(await system.stop()).toEqual([clean, clean, clean, clean]);
  await redis.quit();
});

/** Redis connections of this system's processes, by role (each process names its own). */
async function connections(role: 'api' | 'worker'): Promise<number> {
  const clients = (await redis.client('LIST')) as string;
  const { queuePrefix } = environment.config;
  // A worker's command connection also carries its host and pid.
  const name =
    role === 'api' ? ` name=${queuePrefix}:api ` : ` name=${workerConnectionName(queuePrefix, '')}`;
  return clients.split('\n').filter((line) => line.includes(name)).length;
}

describe('scale-out', () => {
  it('when 2 api processes and 3 workers share an on-sale, then the books are exact', async () => {
    const result = await runLoad(
      loadOptions({
        url: system.url,
        events: 4,
        tickets: 300,
        purchases: 3_000,
        concurrency: 96,
        quantity: { min: 1, max: 2 },
        cancelRatio: 0.1,
        priceCents: 1_500,
      }),
    );

    expect(result.errors, result.errorSamples.join('\n')).toBe(0);
    expect(result.accepted).toBe(3_000);
    // Per event: sold <= total, confirmed quantities = sold, revenue = sold x price, waiting list
    // positions 1..n, nothing left undecided (the load client's audit, through the API).
    expect(result.audit).toEqual({ ok: true, violations: [] });
    expect(result.cancelled).toBeGreaterThan(0);
    // Both api processes and all three workers were really there, each with its own connections.
    expect(await connections('api')).toBe(2);
    expect(await connections('worker')).toBe(3);
  }, 120_000);
});
