import { defineConfig } from 'vitest/config';

// `pnpm test:browser`: the tests that drive a real Chromium (Debian's, at /usr/bin/chromium).
export default defineConfig({
  test: {
    include: ['services/*/test/**/*.browser.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
