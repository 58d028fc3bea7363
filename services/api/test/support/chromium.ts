import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium (scripts/ensure-chromium.sh installs it), driven through playwright-core. */
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

export interface Browser {
  readonly context: BrowserContext;
  /** Where screenshots go: SCREENSHOT_DIR (`pnpm screenshots` points it at docs/screenshots), or the profile. */
  readonly screenshots: string;
  close(): Promise<void>;
}

/** A fresh, throw-away profile; `httpCredentials` answer the pages' basic-auth prompts. */
export async function launchBrowser(httpCredentials?: {
  username: string;
  password: string;
}): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'ticketing-chromium-'));
  const screenshots = process.env.SCREENSHOT_DIR ?? join(profile, 'screenshots');
  mkdirSync(screenshots, { recursive: true });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1280, height: 720 },
    ...(httpCredentials === undefined ? {} : { httpCredentials }),
  });
  return {
    context,
    screenshots,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A chart's canvas as these tests read it (their TypeScript has no DOM library). */
interface DrawnCanvas {
  readonly width: number;
  readonly height: number;
  getContext(kind: '2d'): {
    getImageData(x: number, y: number, width: number, height: number): { data: Uint8ClampedArray };
  } | null;
}

/**
 * Pixels of a chart's canvas (inside `selector`) drawn in a series' colour: proof that uPlot drew
 * the line, not just that the data is there. The canvas is transparent, so an anti-aliased edge
 * keeps the line's colour at a lower alpha; where lines cross, colours mix and those pixels do not count.
 */
export async function pixelsOfColour(page: Page, selector: string, hex: string): Promise<number> {
  return page.locator(`${selector} canvas`).evaluate((canvas: DrawnCanvas, colour: string) => {
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
