import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'services/*/test/**/*.test.ts'],
    // Browser tests need Chromium: `pnpm test:browser` runs them.
    exclude: ['**/node_modules/**', '**/*.faults.test.ts', '**/*.browser.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // System tests start api and worker processes from the production bundles: built once, first.
    globalSetup: ['packages/harness/src/build-services.ts'],
  },
});
