import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Vitest global setup of the fault suite: bundles the services once (`pnpm build`, about a second),
 * so every process the suite starts and restarts runs what production runs.
 */
export default function buildServices(): void {
  execFileSync(process.execPath, ['scripts/build.mjs'], {
    cwd: fileURLToPath(new URL('../../../../', import.meta.url)),
    stdio: 'inherit',
  });
}
