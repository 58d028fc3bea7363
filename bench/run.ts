/**
 * `pnpm bench`: each scenario of the on-sale benchmark against a freshly started system (the harness,
 * @ticketing/harness): api and worker processes on this machine from the production bundles, a
 * database of their own on the machine's Postgres and a Redis server of their own (so its memory and
 * CPU are the system's alone), driven by the load client in this process, which also audits the books
 * through the API. The baselines (bench/baselines/) run in the same run with the same client, and
 * RESULTS.md gives every scenario as multiples of `floor`, one HTTP exchange. Writes bench/RESULTS.md.
 *
 * BENCH_SCALE (default 1) scales every purchase count, for a quick run: BENCH_SCALE=0.1 pnpm bench.
 * BENCH_ONLY=hot,many runs only the named scenarios.
 * BENCH_CPU_PROF=DIR writes a V8 CPU profile of every api and worker process into DIR.
 * BENCH_HEAP_SNAPSHOT=DIR lets every api and worker process write a V8 heap snapshot into DIR when sent
 * SIGUSR2 (`kill -USR2 <pid>`: at a scenario's peak, to see what holds its memory).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  ProcessSystem,
  RedisCluster,
  RedisServer,
  buildServices,
  processStats,
  sharedPostgresDatabase,
  treeStats,
  type PostgresTarget,
} from '@ticketing/harness';
import { sql } from 'kysely';
import { parseOptions, runLoad, type LoadOptions } from '../packages/loadtest/src/index.js';
import { createDb } from '../packages/shared/src/index.js';
import { baselineEntry, type BaselineName } from './baselines/index.js';
import { cpuPerUnit, type BenchSystem, type ResultRow } from './bench-types.js';
import { renderResults } from './report.js';
import { runBacklog } from './scenarios/backlog.js';
import { runEventCancellation } from './scenarios/cancel-event.js';
import { runLongWaitlist } from './scenarios/long-waitlist.js';
import { runOnSale } from './scenarios/onsale.js';

const scale = Number(process.env.BENCH_SCALE ?? '1');
const only = process.env.BENCH_ONLY?.split(',');
const profileDir = process.env.BENCH_CPU_PROF;
const heapSnapshotDir = process.env.BENCH_HEAP_SNAPSHOT;

/** The rate of a paced scenario (and its warm-up) when `hot` is not part of the run. */
const PACED_FALLBACK_RATE = 500;

const purchases = (count: number): number => Math.max(50, Math.round(count * scale));

/** One hot event, nearly unlimited tickets: the decision path at full speed. */
const HOT: Partial<LoadOptions> = {
  events: 1,
  tickets: 1_000_000,
  purchases: purchases(50_000),
  concurrency: 512,
};
/** One event sold out four times over, a waiting list, and cancellations promoting from it. */
const SELLOUT: Partial<LoadOptions> = {
  events: 1,
  tickets: 5_000,
  purchases: purchases(20_000),
  concurrency: 512,
  quantity: { min: 1, max: 4 },
  cancelRatio: 0.05,
};

/** Which server answers the load: the project, or one of the baselines it is measured against. */
type SystemName = 'project' | BaselineName;

interface Scenario {
  readonly name: string;
  readonly what: string;
  readonly system?: SystemName;
  readonly kind?: 'load' | 'backlog' | 'long-waitlist' | 'onsale' | 'cancel-event';
  readonly env?: Record<string, string>;
  readonly apiProcesses?: number;
  readonly workers?: number;
  /** Where the system keeps its queues: a Redis server of the run's own, or a Redis Cluster of its own. */
  readonly redis?: 'server' | 'cluster';
  readonly load: Partial<LoadOptions>;
  /** Open loop at this share of the purchases/s `hot` reached in the same run (not saturated). */
  readonly pacedAtShareOfHot?: number;
  /**
   * Seconds of the same load on an event of its own before the measured one, so that what is measured
   * is a running system rather than its first seconds (connections opening, code not yet compiled).
   */
  readonly warmUpSeconds?: number;
}

const scenarios: Scenario[] = [
  {
    name: 'floor',
    what: "an empty Fastify route with the api's body schema and response shape, answering each purchase at once: one HTTP exchange, the unit of the ratios",
    system: 'floor',
    load: { ...HOT, audit: false },
  },
  {
    name: 'no-queue',
    what: 'a reference server without a queue: one statement per request (conditional update of the event, insert of the purchase), 20,000 purchases',
    system: 'no-queue',
    load: { ...HOT, purchases: purchases(20_000) },
  },
  {
    name: 'bullmq-plain',
    what: 'BullMQ done plainly: insert and Queue.add per request, one Worker per event queue at concurrency 1, one transaction per job, long-poll on QueueEvents; 10,000 purchases',
    system: 'bullmq-plain',
    load: { ...HOT, purchases: purchases(10_000) },
  },
  {
    name: 'hot',
    what: '1 event × 1,000,000 tickets, 50,000 purchases, concurrency 512: submit (202), then long-poll',
    load: HOT,
  },
  {
    name: 'hot-wait',
    what: 'hot with `Prefer: wait=30` on every submit: one exchange per purchase (200 with the decision)',
    load: { ...HOT, preferWait: 30 },
  },
  {
    name: 'hot-paced',
    what: 'hot at 50% of the purchases/s hot reached (open loop, 20,000 purchases over 256 connections opened beforehand, after 5 s of the same load on another event): latency below saturation',
    pacedAtShareOfHot: 0.5,
    warmUpSeconds: 5,
    // Its connections are open before the clock starts, as a load balancer in front holds them: opened
    // during the run, the first seconds measure the storm of new connections (p99 of 1–3 s).
    load: { ...HOT, purchases: purchases(20_000), concurrency: 256, warmConnections: true },
  },
  {
    name: 'drain',
    what: '1 event × 1,000,000 tickets, 30,000 purchases',
    kind: 'backlog',
    load: { ...HOT, purchases: purchases(30_000) },
  },
  {
    name: 'drain-1000',
    what: '1,000 events × 1,000 tickets, 30,000 purchases spread over them',
    kind: 'backlog',
    load: { ...HOT, events: 1_000, tickets: 1_000, purchases: purchases(30_000) },
  },
  {
    name: 'sellout',
    what: '1 event × 5,000 tickets, 20,000 purchases of 1–4 tickets, 5% of confirmed cancelled',
    load: SELLOUT,
  },
  {
    name: 'many',
    what: '1,000 events × 100 tickets, 50,000 purchases spread over them',
    load: { events: 1_000, tickets: 100, purchases: purchases(50_000), concurrency: 512 },
  },
  {
    name: 'cluster',
    what: 'many on a local Redis Cluster (3 masters, 3 replicas, on this machine too) with 2 worker processes',
    redis: 'cluster',
    workers: 2,
    load: { events: 1_000, tickets: 100, purchases: purchases(50_000), concurrency: 512 },
  },
  {
    name: 'many-10k',
    what: '10,000 events × 10 tickets, 50,000 purchases spread over them',
    load: { events: 10_000, tickets: 10, purchases: purchases(50_000), concurrency: 512 },
  },
  {
    name: 'scale-out',
    what: 'sellout with 2 api processes (one port) and 3 worker processes',
    apiProcesses: 2,
    workers: 3,
    load: SELLOUT,
  },
  {
    name: 'long-waitlist',
    what: `1 event × 1,000 tickets: ${purchases(20_000).toLocaleString('en')}, then ${purchases(200_000).toLocaleString('en')} purchases in all, every buyer reading its purchase once at each size, then cancellations promoting from the list one after another, then every confirmed purchase cancelled at once`,
    kind: 'long-waitlist',
    load: { ...HOT, tickets: 1_000, purchases: purchases(200_000) },
  },
  {
    name: 'onsale',
    what: `1 event × 1,000,000 tickets with a sale start: ${purchases(200_000).toLocaleString('en')} buyers in the pre-queue, then the start while ${purchases(20_000).toLocaleString('en')} more arrive`,
    kind: 'onsale',
    load: { ...HOT, purchases: purchases(200_000) },
  },
  {
    name: 'cancel-event',
    what: `1 event × ${purchases(30_000).toLocaleString('en')} tickets, ${purchases(100_000).toLocaleString('en')} purchases (accepted, then decided: confirmed or waiting), then the event cancelled`,
    kind: 'cancel-event',
    load: { ...HOT, tickets: purchases(30_000), purchases: purchases(100_000) },
  },
];

/** The on-sale's plan (its start leaves the pre-queue time to fill at 1,500 accepts a second). */
const ONSALE = {
  prequeued: purchases(200_000),
  later: purchases(20_000),
  laterRate: 1_000,
  acceptPerSecond: 1_500,
};

/**
 * CPU seconds of the Postgres backends serving a database. Pools close idle connections, and a
 * backend's CPU goes with it, so each backend's last reading is kept once it is gone.
 */
function postgresCpu(postgres: PostgresTarget): () => Promise<number> {
  const secondsByPid = new Map<number, number>();
  return async () => {
    for (const pid of await postgres.backendPids()) {
      const seconds = processStats([pid]).cpuSeconds;
      secondsByPid.set(pid, Math.max(seconds, secondsByPid.get(pid) ?? 0));
    }
    return [...secondsByPid.values()].reduce((sum, seconds) => sum + seconds, 0);
  };
}

/** A baseline's servers run from their TypeScript entries (tsx adds only to the start-up, not measured). */
function baselineEntries(system: SystemName): Partial<Record<'api' | 'worker', readonly string[]>> {
  if (system === 'project') return {};
  const entry = (service: 'api' | 'worker') => {
    const file = baselineEntry(system, service);
    return file === undefined ? {} : { [service]: ['--import', 'tsx', file] };
  };
  return { ...entry('api'), ...entry('worker') };
}

const hasWorker = (system: SystemName): boolean =>
  system === 'project' || baselineEntry(system, 'worker') !== undefined;

async function runScenario(scenario: Scenario): Promise<ResultRow[]> {
  const postgres = await sharedPostgresDatabase(
    `bench_${scenario.name.replaceAll('-', '_')}_${Date.now().toString(36)}`,
  );
  const redis =
    scenario.redis === 'cluster'
      ? await RedisCluster.start({ keyPrefix: 'bench' })
      : await RedisServer.start({ keyPrefix: 'bench' });
  const redisPids = (): number[] =>
    redis instanceof RedisCluster ? redis.pids : redis.pid === undefined ? [] : [redis.pid];
  const name = scenario.system ?? 'project';
  const system = await ProcessSystem.create({
    postgres,
    redis,
    env: { API_PROCESSES: String(scenario.apiProcesses ?? 1), ...scenario.env },
    nodeArgs: [
      ...(profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`]),
      ...(heapSnapshotDir === undefined
        ? []
        : ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${heapSnapshotDir}`]),
    ],
    entries: baselineEntries(name),
  });
  const books = createDb(postgres.databaseUrl, { poolSize: 1 });
  try {
    await system.startApi();
    const postgresSeconds = postgresCpu(postgres);
    const bench: BenchSystem = {
      url: system.url,
      redisUrl: redis.url,
      queuePrefix: redis.keyPrefix,
      cpu: async () => {
        const client = process.cpuUsage();
        return {
          api: treeStats([system.api.pid]).cpuSeconds,
          worker: treeStats(system.workers.map((worker) => worker.pid)).cpuSeconds,
          postgres: await postgresSeconds(),
          redis: treeStats(redisPids()).cpuSeconds,
          client: (client.user + client.system) / 1e6,
        };
      },
      startWorkers: async (count) => {
        await system.startWorkers(count);
      },
      query: async <T extends object>(text: string) => (await sql.raw<T>(text).execute(books)).rows,
    };
    const kind = scenario.kind ?? 'load';
    if (kind === 'load') await bench.startWorkers(scenario.workers ?? (hasWorker(name) ? 1 : 0));
    const options: LoadOptions = {
      ...parseOptions([]),
      url: bench.url,
      concurrency: 512,
      quiet: true,
      ...scenario.load,
    };
    process.stderr.write(`\n${scenario.name}: ${scenario.what}\n`);
    const progress = (line: string): void => void process.stderr.write(`  ${line}\n`);
    if (scenario.warmUpSeconds !== undefined) {
      const purchases = Math.max(
        50,
        Math.round(scenario.warmUpSeconds * (options.rate || PACED_FALLBACK_RATE)),
      );
      const warmUp = await runLoad({ ...options, purchases }, () => undefined);
      if (!warmUp.audit.ok) throw new Error(`warm-up audit failed: ${warmUp.audit.violations.join('; ')}`);
      process.stderr.write(`  warmed up with ${purchases} purchases\n`);
    }
    let rows: ResultRow[];
    if (kind === 'backlog') {
      rows = await runBacklog(
        bench,
        { accept: scenario.name.replace('drain', 'accept'), drain: scenario.name },
        scenario.what,
        options,
        progress,
      );
    } else if (kind === 'long-waitlist') {
      rows = await runLongWaitlist(bench, scenario.name, options, progress);
    } else if (kind === 'cancel-event') {
      rows = await runEventCancellation(bench, scenario.what, options, progress);
    } else if (kind === 'onsale') {
      rows = await runOnSale(bench, scenario.what, options, ONSALE, progress);
    } else {
      rows = [await runLoadRow(bench, scenario, options, progress)];
    }
    // Finished jobs are removed by age and count; what stays is bounded whatever the run's size.
    const redisMb = await redis.usedMemoryMb();
    const peakRssMb = {
      api: treeStats([system.api.pid]).peakRssMb,
      worker: treeStats(system.workers.map((worker) => worker.pid)).peakRssMb,
    };
    for (const row of rows) {
      process.stderr.write(`  ${row.name}: ${row.perSecond}/s, audit ${row.audit}, errors ${row.errors}\n`);
    }
    return rows.map((row) => ({ ...row, redisMb, peakRssMb }));
  } finally {
    await books.destroy();
    await system.stop();
    await redis.destroy();
    await postgres.destroy();
  }
}

/** A closed- or open-loop run: submit → decided for every purchase, then the audit. */
async function runLoadRow(
  system: BenchSystem,
  scenario: Scenario,
  options: LoadOptions,
  progress: (line: string) => void,
): Promise<ResultRow> {
  const loadStart = await system.cpu();
  let loadEnd = loadStart;
  const result = await runLoad(options, progress, async () => {
    loadEnd = await system.cpu();
  });
  return {
    name: scenario.name,
    what: scenario.what,
    units: result.accepted,
    unit: scenario.system === 'floor' ? 'request' : 'purchase',
    perSecond: result.purchasesPerSecond,
    latencyMs: result.latencyMs,
    submitLatencyMs: result.submitLatencyMs,
    cpuMicros: cpuPerUnit(loadStart, loadEnd, result.accepted),
    outcomes: `${result.confirmed} / ${result.waitlisted} / ${result.cancelled}`,
    errors: result.errors,
    audit: !options.audit
      ? 'none (keeps no books)'
      : result.audit.ok
        ? 'ok'
        : `FAILED: ${result.audit.violations.slice(0, 3).join('; ')}`,
  };
}

/**
 * Milliseconds a fixed loop of plain JavaScript takes: machines of one kind differ (the same commit has
 * measured twice as fast on one as on another), so results are only comparable next to this figure.
 */
function cpuCalibrationMs(): number {
  const started = performance.now();
  let sum = 0;
  for (let index = 0; index < 200_000_000; index += 1) sum += index % 7;
  if (sum < 0) throw new Error('unreachable');
  return Math.round(performance.now() - started);
}

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
    '- everything on this one machine: api, worker(s), Postgres, a Redis server of the run, and the load client',
    `- CPU calibration: a fixed loop of 200 million additions took ${cpuCalibrationMs()} ms after the run`,
  ];
}

/** A paced scenario with its rate: a share of what `hot` reached in this run. */
function paced(scenario: Scenario, done: readonly ResultRow[]): Scenario {
  if (scenario.pacedAtShareOfHot === undefined) return scenario;
  const hot = done.find((row) => row.name === 'hot');
  const rate =
    hot === undefined
      ? PACED_FALLBACK_RATE
      : Math.max(1, Math.round(hot.perSecond * scenario.pacedAtShareOfHot));
  const basis = hot === undefined ? 'hot was not run: a fixed rate' : 'hot in this run';
  return { ...scenario, what: `${scenario.what}; ${rate}/s (${basis})`, load: { ...scenario.load, rate } };
}

buildServices();
const rows: ResultRow[] = [];
const ran: Scenario[] = [];
for (const scenario of scenarios) {
  if (only !== undefined && !only.includes(scenario.name)) continue;
  const run = paced(scenario, rows);
  ran.push(run);
  rows.push(...(await runScenario(run)));
}

const command = [
  'pnpm bench',
  ...(scale !== 1 ? [`(BENCH_SCALE=${scale})`] : []),
  ...(only ? [`(BENCH_ONLY=${only.join(',')})`] : []),
];
const markdown = renderResults({ rows, command: command.join(' '), facts: machineFacts(), scenarios: ran });
const resultsFile = new URL('./RESULTS.md', import.meta.url);
writeFileSync(resultsFile, markdown);
// Formatted as the repository's checks want it, so a fresh run can be committed as it is.
execFileSync(fileURLToPath(new URL('../node_modules/.bin/prettier', import.meta.url)), [
  '--write',
  fileURLToPath(resultsFile),
]);
process.stderr.write(`\n${markdown}\n`);
process.exit(rows.every((row) => !row.audit.startsWith('FAILED') && row.errors === 0) ? 0 : 1);
