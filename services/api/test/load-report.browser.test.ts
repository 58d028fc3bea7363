import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { LoadResult } from '@ticketing/loadtest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, pixelsOfColour, type Browser } from './support/chromium.js';
import { useTestSystem } from './support/test-system.js';

/**
 * `pnpm loadtest --report` against a running system, and the report it writes opened in Chromium
 * with the network cut off: one file, charts drawn, the run's figures in it.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const run = promisify(execFile);

const system = await useTestSystem();
let base: string;
let chromium: Browser;
let dir: string;

beforeAll(async () => {
  base = await system.app.listen({ port: 0, host: '127.0.0.1' });
  chromium = await launchBrowser();
  dir = mkdtempSync(join(tmpdir(), 'ticketing-load-report-'));
});

afterAll(async () => {
  await chromium?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

const sum = (values: readonly number[]): number => values.reduce((total, value) => total + value, 0);

describe('the load report', () => {
  it('when a run writes --report, then the file renders offline with its charts drawn and the run in it', async () => {
    const [report, json] = [join(dir, 'run.html'), join(dir, 'run.json')];
    const { stdout } = await run(
      process.execPath,
      [
        'packages/loadtest/bin/loadtest.mjs',
        ...['--url', base, '--events', '2', '--tickets', '150', '--purchases', '640', '--rate', '80'],
        ...['--quantity', '1-2', '--cancel-ratio', '0.1', '--json', json, '--report', report, '--quiet'],
      ],
      { cwd: ROOT },
    );
    expect(stdout).toContain(`report written to ${report}`);

    // --json keeps its shape and gains the run second by second, which adds up to the totals.
    const result = JSON.parse(readFileSync(json, 'utf8')) as LoadResult;
    expect(result).toMatchObject({ accepted: 640, errors: 0, audit: { ok: true }, errorsByKind: {} });
    for (const key of ['durationSeconds', 'purchasesPerSecond', 'latencyMs', 'submitLatencyMs', 'options'])
      expect(result, key).toHaveProperty(key);
    const { timeline } = result;
    expect(timeline.length).toBeGreaterThanOrEqual(5);
    expect(sum(timeline.map((second) => second.accepted))).toBe(640);
    const decided = timeline.map(
      ({ outcomes }) => outcomes.confirmed + outcomes.waitlisted + outcomes.rejected,
    );
    expect(sum(decided)).toBe(640);
    expect(sum(timeline.map((second) => second.outcomes.cancelled))).toBe(result.cancelled);
    expect(sum(timeline.map((second) => second.latencyMs.count))).toBe(640);

    const page = await chromium.context.newPage();
    const fetched: string[] = [];
    await page.route('**/*', async (route) => {
      const url = route.request().url();
      if (url.startsWith('file:')) return route.continue();
      fetched.push(url);
      return route.abort();
    });
    await page.goto(pathToFileURL(report).href);
    await page.locator('#latency-chart canvas').waitFor();
    expect(fetched).toEqual([]);

    expect(await page.locator('#verdict').textContent()).toContain('Passed');
    expect(await page.locator('[data-field="accepted"] .value').textContent()).toBe('640');
    expect(await page.locator('[data-field="p99.9"] .value').textContent()).toBe(
      `${result.latencyMs.p999} ms`,
    );
    expect(await page.locator('#audit').getAttribute('data-ok')).toBe('true');
    expect(await page.locator('#outcomes').textContent()).toContain(`confirmed${result.confirmed}`);
    expect(await page.locator('#errors').textContent()).toContain('no errors');
    expect(await page.locator('#settings').textContent()).toContain('purchases640');
    // Every chart is drawn: its lines are on the canvas in their colours. On the latency chart the
    // p99.9 line is the one to look for: it is drawn over p99, which it hides wherever an interval's
    // samples are too few for the two to differ.
    for (const [chart, stroke] of [
      ['#rate-chart', '#2457c5'],
      ['#latency-chart', '#b3261e'],
      ['#outcome-chart', '#2e8b57'],
      ['#error-chart', '#b3261e'],
    ] as const)
      expect(await pixelsOfColour(page, chart, stroke), chart).toBeGreaterThan(20);
    // The rate chart draws each interval's count over its length.
    const peaks = JSON.parse(
      (await page.locator('#rate-chart').getAttribute('data-peaks')) ?? '[]',
    ) as number[];
    const acceptedPerSecond = timeline.map(
      (second, index) => second.accepted / (second.at - (timeline[index - 1]?.at ?? 0)),
    );
    expect(peaks[0]).toBeCloseTo(Math.max(...acceptedPerSecond), 6);
    await page.screenshot({ path: join(chromium.screenshots, 'load-report.png'), fullPage: true });
    await page.close();
  });
});
