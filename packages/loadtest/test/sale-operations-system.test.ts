import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessSystem } from '@ticketing/harness';
import { useTestEnvironment } from '@ticketing/shared/testing';
import { loadOptions, parseOptions, runLoad, type LoadResult } from '../src/index.js';

/**
 * Running a sale end to end through real api and worker processes (docs/running-a-sale.md): the load
 * client's sale operations, done through the admin routes while buyers buy, and its audit of them.
 */
const environment = await useTestEnvironment();
const system = await ProcessSystem.create({ postgres: environment.postgres, redis: environment.redis });

beforeAll(async () => {
  await system.startApi();
  await system.startWorkers(2);
}, 60_000);

afterAll(async () => {
  await system.stop();
});

/** A run with the command line's flags (as `pnpm loadtest -- …` would parse them). */
const run = (...flags: string[]): Promise<LoadResult> =>
  runLoad(loadOptions({ ...parseOptions(['--url', system.url, '--quiet', ...flags]) }));

const expectClean = (result: LoadResult) => {
  expect(result.errors, result.errorSamples.join('\n')).toBe(0);
  expect(result.audit).toEqual({ ok: true, violations: [] });
};

describe('the load client running a sale through real processes', () => {
  it('when the sale is paused, shrunk while paused and grown later, then nothing is decided while paused and the purchases before each resize get the tickets of the total before it', async () => {
    const result = await run(
      ...['--events', '2', '--tickets', '200', '--purchases', '800', '--rate', '100'],
      ...['--pause-at', '0.05:2500', '--resize-at', '0.15:150', '--resize-at', '0.8:300'],
    );
    expectClean(result);
    expect(result.accepted).toBe(800);
    const done = result.saleOperations?.done ?? [];
    // Each event paused once and resized twice; the shrink comes during the pause, before 150 are sold.
    expect(done.filter((operation) => operation.kind === 'pause')).toHaveLength(2);
    const resizes = done.filter((operation) => operation.kind === 'resize');
    expect(resizes.map((resize) => [resize.totalTickets, resize.refused])).toEqual([
      [150, undefined],
      [150, undefined],
      [300, undefined],
      [300, undefined],
    ]);
    // Demand (400 per event) beyond the last total: every ticket went.
    expect(result.confirmed).toBe(600);
  }, 240_000);

  it('when buyers hold, pay, cancel and wait and the events are cancelled halfway, then every purchase ends, later ones are refused, and the refund is what was sold', async () => {
    const result = await run(
      ...['--events', '2', '--tickets', '100', '--purchases', '600', '--concurrency', '32'],
      ...['--hold-seconds', '30', '--pay-ratio', '0.7', '--cancel-ratio', '0.1', '--cancel-event-at', '0.5'],
    );
    expectClean(result);
    expect(result.saleOperations?.refusedAfterEnd).toBeGreaterThan(100);
    expect(result.accepted + (result.saleOperations?.refusedAfterEnd ?? 0)).toBe(600);
    expect(result.confirmed + result.held + result.waitlisted).toBe(0);
  }, 240_000);

  it('when the sales are closed with people waiting, then the waiting list is closed and later purchases are refused', async () => {
    const result = await run(
      ...[
        '--events',
        '2',
        '--tickets',
        '100',
        '--purchases',
        '500',
        '--concurrency',
        '32',
        '--close-at',
        '0.7',
      ],
    );
    expectClean(result);
    expect(result.saleOperations?.refusedAfterEnd).toBeGreaterThan(50);
    expect(result.waitlisted).toBe(0);
    expect(result.confirmed).toBe(200);
  }, 240_000);
});
