import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { workerProcessName } from '@ticketing/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardQueueName } from '../src/admin/queue-dashboard.js';
import { httpHelpers } from './support/http.js';
import { startTestSystem, type TestSystem } from './support/test-system.js';

/**
 * Drives Debian's Chromium through the admin pages as an operator would. Screenshots go to
 * SCREENSHOT_DIR (`pnpm screenshots` points it at docs/screenshots), or into the throw-away profile.
 */
const ADMIN_TOKEN = 'browser-admin-token-0123456789';
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let system: TestSystem;
let base: string;
let profile: string;
let screenshots: string;
let browser: BrowserContext;
const { inject, submit, poll } = httpHelpers(() => system);

beforeAll(async () => {
  system = await startTestSystem({ ADMIN_TOKEN });
  base = await system.app.listen({ port: 0, host: '127.0.0.1' });
  profile = mkdtempSync(join(tmpdir(), 'ticketing-chromium-'));
  screenshots = process.env.SCREENSHOT_DIR ?? join(profile, 'screenshots');
  mkdirSync(screenshots, { recursive: true });
  // A fresh profile whose only credentials are the admin token, given as the basic-auth password
  // when the pages ask for it: how a person logs in through the browser's own prompt.
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1280, height: 720 },
    httpCredentials: { username: 'operator', password: ADMIN_TOKEN },
  });
});

afterAll(async () => {
  await browser?.close();
  await system?.close();
  if (profile !== undefined) rmSync(profile, { recursive: true, force: true });
});

async function createEvent(name: string, totalTickets: number, priceCents: number): Promise<string> {
  const response = await inject({
    method: 'POST',
    url: '/events',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    payload: { name, totalTickets, priceCents, currency: 'EUR' },
  });
  expect(response.statusCode).toBe(201);
  return response.json<{ id: string }>().id;
}

async function field(page: Page, eventId: string, name: string): Promise<string> {
  return (await page.locator(`tr[data-event-id="${eventId}"] [data-field="${name}"]`).textContent()) ?? '';
}

async function waitForField(page: Page, eventId: string, name: string, expected: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while ((await field(page, eventId, name)) !== expected) {
    if (Date.now() > deadline)
      throw new Error(`${name} stayed ${await field(page, eventId, name)}, not ${expected}`);
    await page.waitForTimeout(100);
  }
}

interface ChartState {
  eventId: string | undefined;
  samples: number;
  /** Per series, its highest value. */
  peaks: number[];
}

async function chart(page: Page, id: string): Promise<ChartState> {
  return page.locator(`#${id}`).evaluate((figure: { dataset: Record<string, string | undefined> }) => ({
    eventId: figure.dataset.eventId,
    samples: Number(figure.dataset.samples ?? 0),
    peaks: JSON.parse(figure.dataset.peaks ?? '[]') as number[],
  }));
}

async function waitForChart(
  page: Page,
  id: string,
  done: (state: ChartState) => boolean,
): Promise<ChartState> {
  const deadline = Date.now() + 15_000;
  let state = await chart(page, id);
  while (!done(state)) {
    if (Date.now() > deadline) throw new Error(`${id} stayed ${JSON.stringify(state)}`);
    await page.waitForTimeout(100);
    state = await chart(page, id);
  }
  return state;
}

/**
 * Pixels of the chart's canvas drawn in a series' colour: proof that uPlot drew the line, not just
 * that the data is there. The canvas is transparent, so an anti-aliased edge keeps the line's colour
 * at a lower alpha; where lines cross, colours mix and those pixels do not count.
 */
async function pixelsOfColour(page: Page, id: string, hex: string): Promise<number> {
  return page.locator(`#${id} canvas`).evaluate((canvas: DrawnCanvas, colour: string) => {
    const [r, g, b] = [1, 3, 5].map((at) => parseInt(colour.slice(at, at + 2), 16));
    const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    let count = 0;
    for (let at = 0; at < data.length; at += 4) {
      const near =
        Math.abs(data[at]! - r!) < 24 &&
        Math.abs(data[at + 1]! - g!) < 24 &&
        Math.abs(data[at + 2]! - b!) < 24;
      if (near && data[at + 3]! > 0) count += 1;
    }
    return count;
  }, hex);
}

/** The canvas as this test reads it (the test's TypeScript has no DOM library). */
interface DrawnCanvas {
  readonly width: number;
  readonly height: number;
  getContext(kind: '2d'): {
    getImageData(x: number, y: number, width: number, height: number): { data: Uint8ClampedArray };
  } | null;
}

const CONFIRMED_STROKE = '#2e8b57';
const QUEUE_DEPTH_STROKE = '#2457c5';

describe('admin pages in a browser', () => {
  it('when an operator logs in, then the monitor shows sales rise and Bull Board shows the event queue', async () => {
    const warmUpId = await createEvent('Warm-up gig', 50, 1500);
    const eventId = await createEvent('Summer Festival', 20, 4500);
    const page = await browser.newPage();
    const opened = await page.goto(`${base}/admin`);
    expect(opened?.status()).toBe(200);
    await waitForField(page, eventId, 'sold', '0');
    expect(await field(page, eventId, 'name')).toContain('Summer Festival');

    for (let index = 0; index < 6; index += 1)
      await poll((await submit(eventId, { userId: `fan-${index}`, quantity: 2 })).purchaseId);
    await waitForField(page, eventId, 'sold', '12');
    expect(await field(page, eventId, 'available')).toBe('8');
    expect(await field(page, eventId, 'revenue')).toContain('540');
    // The newest event is charted: the confirmations show as a rate, drawn in their colour.
    const rates = await waitForChart(page, 'rate-chart', (state) => (state.peaks[0] ?? 0) > 0);
    expect(rates.eventId).toBe(eventId);
    expect(rates.samples).toBeGreaterThan(1);
    expect(await pixelsOfColour(page, 'rate-chart', CONFIRMED_STROKE)).toBeGreaterThan(20);
    // A row click charts another event, and back.
    await page.locator(`tr[data-event-id="${warmUpId}"]`).click();
    expect((await chart(page, 'rate-chart')).eventId).toBe(warmUpId);
    expect(await page.locator('#chart-event').textContent()).toBe('Warm-up gig');
    await page.locator(`tr[data-event-id="${eventId}"]`).click();
    expect((await chart(page, 'queue-chart')).eventId).toBe(eventId);

    // Purchases waiting for a worker show up as queue depth here and as waiting jobs in Bull Board.
    await system.stopWorker();
    const waiting = [];
    for (let index = 0; index < 4; index += 1)
      waiting.push(await submit(eventId, { userId: `late-${index}` }));
    await waitForField(page, eventId, 'queueDepth', '4');
    await waitForChart(page, 'queue-chart', (state) => state.peaks[0] === 4);
    expect(await pixelsOfColour(page, 'queue-chart', QUEUE_DEPTH_STROKE)).toBeGreaterThan(20);
    await page.screenshot({ path: join(screenshots, 'admin-monitor.png'), fullPage: true });

    const dashboard = await page.goto(`${base}/admin/queues`);
    expect(dashboard?.status()).toBe(200);
    await page.getByText('Summer Festival').first().waitFor({ timeout: 15_000 });
    const queue = dashboardQueueName({ id: eventId, name: 'Summer Festival' });
    await page.goto(`${base}/admin/queues/queue/${encodeURIComponent(queue)}?status=waiting`);
    await page.getByText(waiting[0]!.purchaseId).first().waitFor({ timeout: 15_000 });
    await page.screenshot({ path: join(screenshots, 'admin-queues.png') });

    // No worker is running: the board says so, truthfully.
    await page.getByText('No workers').first().waitFor({ timeout: 15_000 });
    // Holding the event's row lock keeps the restarted worker in its round, holding the event's lease.
    const blocker = new pg.Client({ connectionString: system.config.databaseUrl });
    await blocker.connect();
    try {
      await blocker.query('begin');
      await blocker.query('select id from events where id = $1 for update', [eventId]);
      await system.startWorker();
      await page.goto(`${base}/admin/queues/queue/${encodeURIComponent(queue)}?status=active`);
      await page.getByText('Drained by worker').waitFor({ timeout: 15_000 });
      expect(await page.getByText('No workers').count()).toBe(0);
      await page.getByRole('button', { name: 'Queue info' }).click();
      await page.getByText('Connected workers').click();
      // The worker process is listed for the queue it drains, by host and pid.
      const me = workerProcessName(hostname(), process.pid);
      await page.getByText(`${me} (draining since`).waitFor({ timeout: 15_000 });
      await page.screenshot({ path: join(screenshots, 'admin-queue-workers.png') });
    } finally {
      await blocker.query('commit');
      await blocker.end();
    }
    for (const purchase of waiting) expect((await poll(purchase.purchaseId)).status).toBe('confirmed');
    await page.close();
  });

  it('when the API documentation is opened, then Swagger UI renders the generated document', async () => {
    const page = await browser.newPage();
    expect((await page.goto(`${base}/docs`))?.status()).toBe(200);
    await page.getByText('Ticketing API').first().waitFor({ timeout: 15_000 });
    await page.getByText('/events/{id}/purchases').first().waitFor({ timeout: 15_000 });
    await page.close();
  });
});
