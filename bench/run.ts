/**
 * `pnpm bench`: each scenario of the on-sale benchmark against a freshly started system (api and
 * worker as separate processes on this machine, a database and key prefix of their own), driven by
 * the load client, which also audits the books. Writes bench/RESULTS.md.
 *
 * BENCH_SCALE (default 1) scales every purchase count, for a quick run: BENCH_SCALE=0.05 pnpm bench.
 * BENCH_ONLY=hot,many runs only the named scenarios.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { runLoad, type LoadOptions, type LoadResult } from '../packages/loadtest/src/index.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const PORT = 3950;
const REDIS_URL = 'redis://127.0.0.1:6379';
const ADMIN_DB = 'postgres://postgres@127.0.0.1:5432/postgres';
const scale = Number(process.env.BENCH_SCALE ?? '1');
const only = process.env.BENCH_ONLY?.split(',');

interface Scenario {
  name: string;
  what: string;
  env?: Record<string, string>;
  load: Partial<LoadOptions>;
}

const purchases = (count: number): number => Math.max(50, Math.round(count * scale));

const scenarios: Scenario[] = [
  {
    name: 'hot',
    what: '1 event × 1,000,000 tickets, 50,000 purchases, concurrency 512',
    load: { events: 1, tickets: 1_000_000, purchases: purchases(50_000), concurrency: 512 },
  },
  {
    name: 'hot-naive',
    what: 'hot with WORKER_BATCH_SIZE=1 (one job per transaction)',
    env: { WORKER_BATCH_SIZE: '1' },
    load: { events: 1, tickets: 1_000_000, purchases: purchases(50_000), concurrency: 512 },
  },
  {
    name: 'sellout',
    what: '1 event × 5,000 tickets, 20,000 purchases of 1–4 tickets, 5% cancelled',
    load: {
      events: 1,
      tickets: 5_000,
      purchases: purchases(20_000),
      concurrency: 512,
      quantity: { min: 1, max: 4 },
      cancelRatio: 0.05,
    },
  },
  {
    name: 'many',
    what: '1,000 events × 100 tickets, 50,000 purchases spread over them',
    load: { events: 1_000, tickets: 100, purchases: purchases(50_000), concurrency: 512 },
  },
];

interface ProcessStats {
  cpuSeconds: number;
  peakRssMb: number;
}

/** CPU seconds and peak resident memory of a running process, from /proc. */
function processStats(pid: number): ProcessStats {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const peakKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { cpuSeconds: Math.round((ticks / 100) * 10) / 10, peakRssMb: Math.round(peakKb / 1024) };
}

function start(entry: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function waitReady(url: string): Promise<void> {
  for (let attempt = 0; attempt < 120; attempt += 1) {
    const ok = await fetch(`${url}/ready`).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error('the system did not become ready');
}

async function redisMemoryMb(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Math.round((Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0) / 1024 / 1024) * 10) / 10;
}

interface Outcome {
  scenario: Scenario;
  result: LoadResult;
  api: ProcessStats;
  worker: ProcessStats;
  redisMb: number;
}

async function runScenario(scenario: Scenario, redis: Redis): Promise<Outcome> {
  const runId = `bench_${scenario.name.replace('-', '_')}_${Date.now().toString(36)}`;
  const env = {
    PORT: String(PORT),
    DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${runId}`,
    REDIS_URL,
    QUEUE_PREFIX: runId,
    LOG_LEVEL: 'warn',
    ...scenario.env,
  };
  const api = start('services/api/src/server.ts', env);
  await waitReady(`http://127.0.0.1:${PORT}`);
  const worker = start('services/worker/src/main.ts', env);
  try {
    const options: LoadOptions = {
      url: `http://127.0.0.1:${PORT}`,
      events: 1,
      tickets: 1000,
      purchases: 1000,
      concurrency: 512,
      rate: 0,
      quantity: { min: 1, max: 1 },
      cancelRatio: 0,
      priceCents: 1000,
      adminToken: undefined,
      json: undefined,
      quiet: true,
      ...scenario.load,
    };
    process.stderr.write(`\n${scenario.name}: ${scenario.what}\n`);
    const result = await runLoad(options, (line) => process.stderr.write(`  ${line}\n`));
    const outcome = {
      scenario,
      result,
      api: processStats(api.pid ?? 0),
      worker: processStats(worker.pid ?? 0),
      redisMb: 0,
    };
    process.stderr.write(
      `  ${result.purchasesPerSecond}/s, audit ${result.audit.ok ? 'ok' : 'FAILED'}, errors ${result.errors}\n`,
    );
    return outcome;
  } finally {
    await stop(worker);
    await stop(api);
    const client = new pg.Client({ connectionString: ADMIN_DB });
    await client.connect();
    await client.query(`drop database if exists ${runId} with (force)`);
    await client.end();
    // Redis memory with this run's finished jobs still held (bounded by removeOnComplete), then cleaned.
    const held = await redisMemoryMb(redis);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${runId}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
    lastRedisMb = held;
  }
}

let lastRedisMb = 0;

function machineFacts(): string[] {
  const version = (command: string, args: string[]): string => {
    try {
      return execFileSync(command, args, { encoding: 'utf8' }).trim().split('\n')[0] ?? '';
    } catch {
      return 'unknown';
    }
  };
  return [
    `- CPU: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown'}; memory ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    `- Node.js ${process.version}; ${version('psql', ['--version'])}; ${version('redis-server', ['--version'])}`,
    `- everything on this one machine: api (1 process), worker (1 process), Postgres, Redis and the load client`,
  ];
}

const rows: string[] = [];
const redis = new Redis(REDIS_URL);
const outcomes: Outcome[] = [];
for (const scenario of scenarios) {
  if (only !== undefined && !only.includes(scenario.name)) continue;
  const outcome = await runScenario(scenario, redis);
  outcome.redisMb = lastRedisMb;
  outcomes.push(outcome);
}
await redis.quit();

for (const { scenario, result, api, worker, redisMb } of outcomes) {
  const latency = result.latencyMs;
  const submit = result.submitLatencyMs;
  rows.push(
    `| ${scenario.name} | ${result.accepted} | ${result.purchasesPerSecond} | ${latency.p50} / ${latency.p99} / ${latency.p999} | ` +
      `${submit.p50} / ${submit.p99} / ${submit.p999} | ${api.cpuSeconds} / ${worker.cpuSeconds} | ` +
      `${api.peakRssMb} / ${worker.peakRssMb} | ${redisMb} | ${result.confirmed} / ${result.waitlisted} / ${result.cancelled} | ` +
      `${result.errors} | ${result.audit.ok ? 'ok' : `FAILED: ${result.audit.violations.slice(0, 3).join('; ')}`} |`,
  );
}
const hot = outcomes.find((outcome) => outcome.scenario.name === 'hot');
const naive = outcomes.find((outcome) => outcome.scenario.name === 'hot-naive');
const ratio =
  hot !== undefined && naive !== undefined && naive.result.purchasesPerSecond > 0
    ? `hot / hot-naive = **${(hot.result.purchasesPerSecond / naive.result.purchasesPerSecond).toFixed(1)}×**`
    : 'hot / hot-naive: not measured in this run';

const markdown = [
  '# Benchmark results',
  '',
  `Command: \`${['pnpm bench', ...(scale !== 1 ? [`(BENCH_SCALE=${scale})`] : [])].join(' ')}\`, run ${new Date().toISOString()}.`,
  '',
  ...machineFacts(),
  '',
  'Purchases/s is end to end: submit → decided, as seen by the load client. Latencies in ms. CPU is the',
  "seconds of CPU each process used over the whole run; RSS is each process's peak. Redis memory is measured",
  'after the run, with its finished jobs still held (they are removed by age and count).',
  '',
  '| scenario | purchases | purchases/s | submit→decided p50 / p99 / p99.9 | submit→202 p50 / p99 / p99.9 | CPU s api / worker | peak RSS MB api / worker | Redis MB after | confirmed / waitlisted / cancelled | errors | audit |',
  '|---|---|---|---|---|---|---|---|---|---|---|',
  ...rows,
  '',
  ratio,
  '',
  'Scenarios:',
  ...outcomes.map(({ scenario }) => `- **${scenario.name}**: ${scenario.what}`),
  '',
];
writeFileSync(new URL('./RESULTS.md', import.meta.url), markdown.join('\n'));
process.stderr.write(`\n${markdown.join('\n')}\n`);
process.exit(outcomes.every((outcome) => outcome.result.audit.ok && outcome.result.errors === 0) ? 0 : 1);
