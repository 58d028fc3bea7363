import { defineConfig } from 'vitest/config';

/**
 * `pnpm test:faults`: the fault-injection suite. Each file starts its own Postgres cluster, Redis
 * server, api and worker processes (the bundles `pnpm build` makes, built once at the start), so files
 * run one after another.
 */
export default defineConfig({
  test: {
    include: ['packages/faults/test/**/*.faults.test.ts'],
    globalSetup: ['packages/harness/src/build-services.ts'],
    exclude: ['**/node_modules/**'],
    fileParallelism: false,
    testTimeout: 240_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
