import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort, sleep, waitFor } from '@ticketing/harness';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * `pnpm start` (its processes, from the bundles the test run built) on a machine where nothing listens
 * at the Postgres and Redis addresses: what a newcomer without either sees, until every process has
 * said what it misses and retried a few times more.
 */
async function startWhereNothingListens(): Promise<string[]> {
  const [postgresPort, redisPort, apiPort] = await Promise.all([freePort(), freePort(), freePort()]);
  const child = spawn(process.execPath, ['scripts/start-all.mjs'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      HOST: '127.0.0.1',
      PORT: String(apiPort),
      WORKER_METRICS_PORT: '0',
      DATABASE_URL: `postgres://postgres@127.0.0.1:${postgresPort}/ticketing`,
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      ADMIN_TOKEN: 'a-token-of-the-test-0123456789',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  try {
    // Both processes have said what they miss (on a busy machine a bundle takes a while to load)…
    await waitFor('a line per store from each process', async () => output.split('\n').length > 4, 30_000);
    // …and then retry every second: three more rounds of retries, which must stay quiet.
    await sleep(3_500);
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  return output.split('\n').filter((line) => line !== '');
}

describe('starting without Postgres or Redis', () => {
  it('when nothing listens at the stores, then each process says once per store which is missing and how to get one, and retries quietly', async () => {
    const lines = await startWhereNothingListens();
    // Not a terminal: JSON lines, one warning per store and process, after which the retries are silent.
    const messages = lines.map((line) => JSON.parse(line) as { name: string; level: number; msg: string });
    const byProcess = (name: string, store: RegExp) =>
      messages.filter((message) => message.name === name && store.test(message.msg));
    for (const name of ['api', 'worker']) {
      const postgres = byProcess(name, /^Postgres at /);
      const redis = byProcess(name, /^Redis at /);
      expect(postgres).toHaveLength(1);
      expect(redis).toHaveLength(1);
      expect(postgres[0]?.msg).toMatch(
        /^Postgres at 127\.0\.0\.1:\d+ is not answering \(connect ECONNREFUSED 127\.0\.0\.1:\d+\); waiting up to 30 s\. Start one: `docker compose up -d postgres`.*`apt-get install postgresql`; or set DATABASE_URL/,
      );
      expect(redis[0]?.msg).toMatch(
        /^Redis at 127\.0\.0\.1:\d+ is not answering \(connect ECONNREFUSED 127\.0\.0\.1:\d+\); waiting up to 30 s\. Start one: `docker compose up -d redis`.*`apt-get install redis-server`; or set REDIS_URL/,
      );
    }
    expect(messages).toHaveLength(4);
    expect(lines.join('\n')).not.toMatch(/"err"|"stack"|\n\s+at /);
  });
});
