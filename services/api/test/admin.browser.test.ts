import { hostname } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { BrowserContext, Page } from 'playwright-core';
import { workerProcessName } from '@ticketing/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardQueueName } from '../src/admin/queue-dashboard.js';
import { launchBrowser, pixelsOfColour, type Browser } from './support/chromium.js';
import { httpHelpers } from './support/http.js';
import { useTestSystem } from './support/test-system.js';

/** Drives Debian's Chromium through the admin pages as an operator would. */
const ADMIN_TOKEN = 'browser-admin-token-0123456789';

const system = await useTestSystem({ ADMIN_TOKEN });
let base: string;
let chromium: Browser;
let browser: BrowserContext;
let screenshots: string;
const { inject, submit, poll } = httpHelpers(() => system);

beforeAll(async () => {
  base = await system.app.listen({ port: 0, host: '127.0.0.1' });
  // The profile's only credentials are the admin token, given as the basic-auth password when the
  // pages ask for it: how a person logs in through the browser's own prompt.
  chromium = await launchBrowser({ username: 'operator', password: ADMIN_TOKEN });
  browser = chromium.context;
  screenshots = chromium.screenshots;
});

afterAll(async () => {
  await chromium?.close();
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
    // A paused sale stands out.
    const paused = await inject({
      method: 'POST',
      url: `/events/${warmUpId}/pause`,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(paused.statusCode).toBe(200);
    await waitForField(page, warmUpId, 'sale', 'paused');
    const saleCell = page.locator(`tr[data-event-id="${warmUpId}"] [data-field="sale"]`);
    expect(await saleCell.getAttribute('class')).toBe('sale-paused');
    expect(await field(page, eventId, 'sale')).toBe('on sale');

    // Paced over a few seconds, as a sale would come in, so that the rate has a shape to chart.
    for (let index = 0; index < 6; index += 1) {
      await poll((await submit(eventId, { userId: `fan-${index}`, quantity: 2 })).purchaseId);
      await page.waitForTimeout(500);
    }
    await waitForField(page, eventId, 'sold', '12');
    expect(await field(page, eventId, 'available')).toBe('8');
    expect(await field(page, eventId, 'held')).toBe('0');
    expect(await field(page, eventId, 'holdsExpired')).toBe('0');
    expect(await field(page, eventId, 'revenue')).toContain('540');
    // The newest event is charted: the confirmations show as a rate, drawn in their colour.
    const rates = await waitForChart(page, 'rate-chart', (state) => (state.peaks[0] ?? 0) > 0);
    expect(rates.eventId).toBe(eventId);
    expect(rates.samples).toBeGreaterThan(1);
    expect(await pixelsOfColour(page, '#rate-chart', CONFIRMED_STROKE)).toBeGreaterThan(20);
    // A row click charts another event, and back.
    await page.locator(`tr[data-event-id="${warmUpId}"]`).click();
    expect((await chart(page, 'rate-chart')).eventId).toBe(warmUpId);
    expect(await page.locator('#chart-event').textContent()).toBe('Warm-up gig');
    await page.locator(`tr[data-event-id="${eventId}"]`).click();
    expect((await chart(page, 'queue-chart')).eventId).toBe(eventId);

    // Purchases waiting for a worker show up as queue depth here and as waiting jobs in Bull Board.
    await system.stopWorker();
    const waiting = [];
    for (let index = 0; index < 4; index += 1) {
      waiting.push(await submit(eventId, { userId: `late-${index}` }));
      await page.waitForTimeout(500);
    }
    await waitForField(page, eventId, 'queueDepth', '4');
    await waitForChart(page, 'queue-chart', (state) => state.peaks[0] === 4);
    expect(await pixelsOfColour(page, '#queue-chart', QUEUE_DEPTH_STROKE)).toBeGreaterThan(20);
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
