/**
 * `pnpm bench`: each scenario of the on-sale benchmark against a freshly started system: api and
 * worker processes on this machine (built and started as `pnpm start` does), a database of their own
 * on the machine's Postgres and a Redis server of their own (so its memory and CPU are the system's
 * alone), driven by the load client in this process, which also audits the books through the API.
 * The baselines (bench/baselines/) run in the same run with the same client, and RESULTS.md gives
 * every scenario as multiples of `floor`, one HTTP exchange.
 *
 * BENCH_SCALE (default 1) scales every purchase count, for a quick run: BENCH_SCALE=0.1 pnpm bench.
 * BENCH_ONLY=hot,many runs only the named scenarios.
 * BENCH_CPU_PROF=DIR writes a V8 CPU profile of every api and worker process into DIR.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import SERVICES from '../scripts/services.json' with { type: 'json' };
import { parseOptions, runLoad, type LoadOptions } from '../packages/loadtest/src/index.js';
import { freePort, waitForReady } from '../packages/shared/src/testing/processes.js';
import { baselineEntry, type BaselineName } from './baselines/index.js';
import { cpuPerUnit, type BenchSystem, type ResultRow } from './bench-types.js';
import { renderResults } from './report.js';
import { runBacklog } from './scenarios/backlog.js';
import { runLongWaitlist } from './scenarios/long-waitlist.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const ADMIN_DB = 'postgres://postgres@127.0.0.1:5432/postgres';
const scale = Number(process.env.BENCH_SCALE ?? '1');
const only = process.env.BENCH_ONLY?.split(',');
const profileDir = process.env.BENCH_CPU_PROF;

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
  readonly kind?: 'load' | 'backlog' | 'long-waitlist';
  readonly env?: Record<string, string>;
  readonly apiProcesses?: number;
  readonly workers?: number;
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
    what: `1 event × 1,000 tickets: ${purchases(20_000).toLocaleString('en')}, then ${purchases(200_000).toLocaleString('en')} purchases in all, every buyer reading its purchase once at each size, then cancellations promoting from the list`,
    kind: 'long-waitlist',
    load: { ...HOT, tickets: 1_000, purchases: purchases(200_000) },
  },
];

const CLOCK_TICKS = 100;

/** CPU ticks and peak resident memory of one process, from /proc. */
function procStat(pid: number): { ticks: number; ppid: number; peakKb: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return {
      ppid: Number(fields[1]),
      ticks: Number(fields[11]) + Number(fields[12]),
      peakKb: Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0),
    };
  } catch {
    return undefined;
  }
}

/** The process and its descendants (an api cluster's primary has its serving processes below it). */
function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = procStat(pid);
    if (stat === undefined) continue;
    children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), pid]);
  }
  const tree = [root];
  for (let index = 0; index < tree.length; index += 1)
    tree.push(...(children.get(tree[index] as number) ?? []));
  return tree;
}

/** CPU ticks of a set of process trees, summed; peak RSS of the largest single process in them. */
function treeTicks(roots: readonly number[]): { ticks: number; peakKb: number } {
  let ticks = 0;
  let peakKb = 0;
  for (const pid of roots.flatMap(processTree)) {
    const stat = procStat(pid);
    if (stat === undefined) continue;
    ticks += stat.ticks;
    peakKb = Math.max(peakKb, stat.peakKb);
  }
  return { ticks, peakKb };
}

const cpuSeconds = (roots: readonly number[]): number => treeTicks(roots).ticks / CLOCK_TICKS;
const peakRssMb = (roots: readonly number[]): number => Math.round(treeTicks(roots).peakKb / 1024);

/**
 * A service as `pnpm start` runs it (its bundle, with the same V8 flags), or a baseline's, with the
 * same flags (through tsx: it only adds to the start-up, which is not measured).
 */
function start(system: SystemName, service: 'api' | 'worker', env: Record<string, string>): ChildProcess {
  const profile = profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`];
  const entry =
    system === 'project'
      ? [SERVICES[service].bundle]
      : ['--import', 'tsx', baselineEntry(system, service) ?? ''];
  return spawn(process.execPath, [...SERVICES[service].nodeFlags, ...profile, ...entry], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

const hasWorker = (system: SystemName): boolean =>
  system === 'project' || baselineEntry(system, 'worker') !== undefined;

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** A Redis server of the benchmark's own, configured as BullMQ asks for production (no eviction). */
async function startRedis(): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const port = await freePort();
  const dir = mkdtempSync(join(os.tmpdir(), 'bench-redis-'));
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    redis.on('error', () => undefined);
    const up = await redis.connect().then(
      () => redis.ping().then(() => true),
      () => false,
    );
    redis.disconnect();
    if (up) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    pid: child.pid ?? 0,
    stop: async () => {
      await stop(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function redisMemoryMb(url: string): Promise<number> {
  const redis = new Redis(url);
  try {
    const info = await redis.info('memory');
    return Math.round((Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0) / 1024 / 1024) * 10) / 10;
  } finally {
    redis.disconnect();
  }
}

/**
 * CPU seconds of the Postgres backends serving a database. Pools close idle connections, and a
 * backend's CPU goes with it, so each backend's last reading is kept once it is gone.
 */
function postgresCpu(admin: pg.Client, database: string): () => Promise<number> {
  const ticksByPid = new Map<number, number>();
  return async () => {
    const { rows } = await admin.query<{ pid: number }>(
      'select pid from pg_stat_activity where datname = $1',
      [database],
    );
    for (const { pid } of rows) {
      const ticks = procStat(pid)?.ticks;
      if (ticks !== undefined) ticksByPid.set(pid, Math.max(ticks, ticksByPid.get(pid) ?? 0));
    }
    return [...ticksByPid.values()].reduce((sum, ticks) => sum + ticks, 0) / CLOCK_TICKS;
  };
}

async function runScenario(scenario: Scenario): Promise<ResultRow[]> {
  const database = `bench_${scenario.name.replaceAll('-', '_')}_${Date.now().toString(36)}`;
  const redisServer = await startRedis();
  const port = await freePort();
  const databaseUrl = `postgres://postgres@127.0.0.1:5432/${database}`;
  const env = {
    PORT: String(port),
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisServer.url,
    QUEUE_PREFIX: 'bench',
    LOG_LEVEL: 'warn',
    API_PROCESSES: String(scenario.apiProcesses ?? 1),
    ...scenario.env,
  };
  const system = scenario.system ?? 'project';
  const admin = new pg.Client({ connectionString: ADMIN_DB });
  await admin.connect();
  await admin.query(`create database ${database}`);
  const api = start(system, 'api', env);
  const workers: ChildProcess[] = [];
  let books: pg.Client | undefined;
  try {
    await waitForReady(`http://127.0.0.1:${port}`);
    books = new pg.Client({ connectionString: databaseUrl });
    await books.connect();
    const postgresSeconds = postgresCpu(admin, database);
    const bench: BenchSystem = {
      url: `http://127.0.0.1:${port}`,
      redisUrl: redisServer.url,
      queuePrefix: env.QUEUE_PREFIX,
      cpu: async () => {
        const client = process.cpuUsage();
        return {
          api: cpuSeconds([api.pid ?? 0]),
          worker: cpuSeconds(workers.map((worker) => worker.pid ?? 0)),
          postgres: await postgresSeconds(),
          redis: cpuSeconds([redisServer.pid]),
          client: (client.user + client.system) / 1e6,
        };
      },
      startWorkers: (count) => {
        for (let index = 0; index < count; index += 1) workers.push(start(system, 'worker', env));
      },
      query: async <T extends object>(text: string, values?: unknown[]) =>
        (await (books as pg.Client).query<T>(text, values)).rows,
    };
    const kind = scenario.kind ?? 'load';
    if (kind === 'load') {
      bench.startWorkers(scenario.workers ?? (hasWorker(system) ? 1 : 0));
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
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
    } else {
      rows = [await runLoadRow(bench, scenario, options, progress)];
    }
    // Finished jobs are removed by age and count; what stays is bounded whatever the run's size.
    const redisMb = await redisMemoryMb(redisServer.url);
    const peaks = {
      api: peakRssMb([api.pid ?? 0]),
      worker: peakRssMb(workers.map((worker) => worker.pid ?? 0)),
    };
    for (const row of rows) {
      process.stderr.write(`  ${row.name}: ${row.perSecond}/s, audit ${row.audit}, errors ${row.errors}\n`);
    }
    return rows.map((row) => ({ ...row, redisMb, peakRssMb: peaks }));
  } finally {
    await books?.end().catch(() => undefined);
    await Promise.all(workers.map(stop));
    await stop(api);
    await redisServer.stop();
    await admin.query(`drop database if exists ${database} with (force)`);
    await admin.end();
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

execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'inherit' });
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
writeFileSync(new URL('./RESULTS.md', import.meta.url), markdown);
process.stderr.write(`\n${markdown}\n`);
process.exit(rows.every((row) => !row.audit.startsWith('FAILED') && row.errors === 0) ? 0 : 1);
