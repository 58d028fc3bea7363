import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessSystem, sleep } from '@ticketing/harness';
import { useTestEnvironment } from '@ticketing/shared/testing';
import { loadOptions, runLoad } from '../src/index.js';

/**
 * The on-sale end to end through real api and worker processes: the load client's on-sale mode with
 * its audit, and `pnpm verify-draw` as a buyer runs it before and after the start.
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

const bin = fileURLToPath(new URL('../bin/verify-draw.mjs', import.meta.url));

async function verifyDraw(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [bin, ...args]);
    return { code: 0, out: stdout };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, out: `${stdout}${stderr}` };
  }
}

async function post<T>(path: string, body: unknown, status: number): Promise<T> {
  const response = await fetch(`${system.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status, await response.clone().text()).toBe(status);
  return (await response.json()) as T;
}

describe('the on-sale through real processes', () => {
  it('when the load client runs an on-sale, then its audit finds the draw kept: nothing early, drawn order, later arrivals behind, fast buyers no better', async () => {
    const result = await runLoad(
      loadOptions({
        url: system.url,
        events: 2,
        tickets: 150,
        purchases: 1_200,
        concurrency: 32,
        quantity: { min: 1, max: 2 },
        saleStartIn: 4,
        earlyRatio: 0.6,
      }),
    );
    expect(result.errors, result.errorSamples.join('\n')).toBe(0);
    expect(result.audit).toEqual({ ok: true, violations: [] });
    expect(result.accepted).toBe(1_200);
    for (const sale of result.onSale ?? []) {
      // Both events sold out inside the pre-queue, so the replay of the draw decides every outcome.
      expect(sale.entrants).toBeGreaterThan(300);
      expect(sale.fast.count).toBeGreaterThan(100);
      expect(sale.firstDecisionMs).toBeGreaterThanOrEqual(0);
    }
    expect(result.onSale).toHaveLength(2);
  }, 120_000);

  it('when a buyer runs pnpm verify-draw before and after the start, then it shows the commitment to write down, then their place of N', async () => {
    const startAt = new Date(Date.now() + 2_500);
    const event = await post<{ id: string }>(
      '/events',
      { name: 'verify-draw', totalTickets: 2, priceCents: 100, salesStartAt: startAt.toISOString() },
      201,
    );
    const purchases = await Promise.all(
      ['a', 'b', 'c'].map((userId) =>
        post<{ purchaseId: string; status: string }>(`/events/${event.id}/purchases`, { userId }, 202),
      ),
    );
    expect(purchases.map((p) => p.status)).toEqual(['prequeued', 'prequeued', 'prequeued']);
    const mine = purchases[1]!.purchaseId;

    const early = await verifyDraw(system.url, event.id, mine);
    expect(early.code).toBe(1);
    expect(early.out).toContain('not drawn yet');
    const commitment = /commitment\s+([0-9a-f]{64})/.exec(early.out)?.[1];
    expect(commitment).toMatch(/^[0-9a-f]{64}$/);

    await sleep(Math.max(0, startAt.getTime() - Date.now()));
    let late = await verifyDraw(system.url, event.id, mine, '--commitment', commitment!);
    // The draw is made by the first worker round after the start: give it a moment.
    for (let tries = 0; late.code !== 0 && late.out.includes('not drawn yet') && tries < 20; tries++) {
      await sleep(250);
      late = await verifyDraw(system.url, event.id, mine, '--commitment', commitment!);
    }
    expect(late.code, late.out).toBe(0);
    expect(late.out).toMatch(/place [123] of 3/);
    expect(late.out).toContain('the one you wrote down');
  }, 60_000);
});
