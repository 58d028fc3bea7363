import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

describe('admin pages in a browser', () => {
  it('when an operator logs in, then the monitor shows sales rise and Bull Board shows the event queue', async () => {
    await createEvent('Warm-up gig', 50, 1500);
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

    // Purchases waiting for a worker show up as queue depth here and as waiting jobs in Bull Board.
    await system.stopWorker();
    const waiting = [];
    for (let index = 0; index < 4; index += 1)
      waiting.push(await submit(eventId, { userId: `late-${index}` }));
    await waitForField(page, eventId, 'queueDepth', '4');
    await page.screenshot({ path: join(screenshots, 'admin-monitor.png'), fullPage: true });

    const dashboard = await page.goto(`${base}/admin/queues`);
    expect(dashboard?.status()).toBe(200);
    await page.getByText('Summer Festival').first().waitFor({ timeout: 15_000 });
    await page.goto(`${base}/admin/queues/queue/${encodeURIComponent(`event-{${eventId}}`)}?status=waiting`);
    await page.getByText(waiting[0]!.purchaseId).first().waitFor({ timeout: 15_000 });
    await page.screenshot({ path: join(screenshots, 'admin-queues.png') });

    await system.startWorker();
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
