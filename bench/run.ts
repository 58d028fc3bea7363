/**
 * `pnpm bench`: each scenario of the on-sale benchmark against a freshly started system (the harness,
 * @ticketing/harness): api and worker processes on this machine from the production bundles, a
 * database of their own on the machine's Postgres and a Redis server of their own (so its memory and
 * CPU are the system's alone), driven by the load client in this process, which also audits the books
 * through the API. Writes bench/RESULTS.md.
 *
 * BENCH_SCALE (default 1) scales every purchase count, for a quick run: BENCH_SCALE=0.1 pnpm bench.
 * BENCH_ONLY=hot,many runs only the named scenarios.
 * BENCH_CPU_PROF=DIR writes a V8 CPU profile of every api and worker process into DIR.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import {
  ProcessSystem,
  RedisServer,
  buildServices,
  processStats,
  sharedPostgresDatabase,
  treeStats,
  type ProcessStats,
} from '@ticketing/harness';
import { runLoad, type LoadOptions, type LoadResult } from '../packages/loadtest/src/index.js';
const scale = Number(process.env.BENCH_SCALE ?? '1');
const only = process.env.BENCH_ONLY?.split(',');
const profileDir = process.env.BENCH_CPU_PROF;

interface Scenario {
  readonly name: string;
  readonly what: string;
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

const scenarios: Scenario[] = [
  {
    name: 'hot',
    what: '1 event × 1,000,000 tickets, 50,000 purchases, concurrency 512',
    load: HOT,
  },
  {
    name: 'hot-naive',
    what: 'hot with WORKER_BATCH_SIZE=1 (one job per transaction)',
    env: { WORKER_BATCH_SIZE: '1' },
    load: HOT,
  },
  {
    name: 'hot-paced',
    what: 'hot at 60% of the purchases/s hot reached (open loop, 20,000 purchases over 256 connections opened beforehand, after 5 s of the same load on another event): latency below saturation',
    pacedAtShareOfHot: 0.6,
    warmUpSeconds: 5,
    // Its connections are open before the clock starts, as a load balancer in front holds them: opened
    // during the run, the first seconds measure the storm of new connections (p99 of 1–3 s).
    load: { ...HOT, purchases: purchases(20_000), concurrency: 256, warmConnections: true },
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
];

interface Outcome {
  readonly scenario: Scenario;
  readonly result: LoadResult;
  readonly api: ProcessStats;
  readonly worker: ProcessStats;
  readonly redis: { cpuSeconds: number; memoryMb: number };
  readonly postgresCpuSeconds: number;
  readonly loadClientCpuSeconds: number;
  /** CPU per purchase of each part while purchases were being submitted and decided (audit excluded). */
  readonly loadCpuMicros: CpuSplit;
}

/** CPU seconds (or µs per purchase) of each part of the system. */
interface CpuSplit {
  readonly api: number;
  readonly worker: number;
  readonly postgres: number;
  readonly redis: number;
  readonly client: number;
}

async function runScenario(scenario: Scenario): Promise<Outcome> {
  const postgres = await sharedPostgresDatabase(
    `bench_${scenario.name.replaceAll('-', '_')}_${Date.now().toString(36)}`,
  );
  const redis = await RedisServer.start({ keyPrefix: 'bench' });
  const system = await ProcessSystem.create({
    postgres,
    redis,
    env: { API_PROCESSES: String(scenario.apiProcesses ?? 1), ...scenario.env },
    nodeArgs: profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`],
  });
  try {
    await system.startApi();
    await system.startWorkers(scenario.workers ?? 1);
    const options: LoadOptions = {
      url: system.url,
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
      warmConnections: false,
      ...scenario.load,
    };
    process.stderr.write(`\n${scenario.name}: ${scenario.what}\n`);
    if (scenario.warmUpSeconds !== undefined) {
      const purchases = Math.max(
        50,
        Math.round(scenario.warmUpSeconds * (options.rate || PACED_FALLBACK_RATE)),
      );
      const warmUp = await runLoad({ ...options, purchases }, () => undefined);
      if (!warmUp.audit.ok) throw new Error(`warm-up audit failed: ${warmUp.audit.violations.join('; ')}`);
      process.stderr.write(`  warmed up with ${purchases} purchases\n`);
    }
    const api = (): ProcessStats => treeStats([system.api.pid]);
    const workers = (): ProcessStats => treeStats(system.workers.map((worker) => worker.pid));
    const redisCpuSeconds = (): number => treeStats(redis.pid === undefined ? [] : [redis.pid]).cpuSeconds;
    // The pools stay connected all run, so the backends of the database are the run's.
    const postgresCpuSeconds = async (): Promise<number> =>
      processStats(await postgres.backendPids()).cpuSeconds;
    const cpuSplit = async (): Promise<CpuSplit> => {
      const client = process.cpuUsage();
      return {
        api: api().cpuSeconds,
        worker: workers().cpuSeconds,
        postgres: await postgresCpuSeconds(),
        redis: redisCpuSeconds(),
        client: (client.user + client.system) / 1e6,
      };
    };
    const cpuBefore = process.cpuUsage();
    const loadStart = await cpuSplit();
    let loadEnd = loadStart;
    const result = await runLoad(
      options,
      (line) => process.stderr.write(`  ${line}\n`),
      async () => {
        loadEnd = await cpuSplit();
      },
    );
    const perPurchase = (part: keyof CpuSplit): number =>
      Math.round(((loadEnd[part] - loadStart[part]) * 1e6) / Math.max(1, result.accepted));
    const cpu = process.cpuUsage(cpuBefore);
    const outcome: Outcome = {
      scenario,
      result,
      api: api(),
      worker: workers(),
      redis: { cpuSeconds: redisCpuSeconds(), memoryMb: 0 },
      postgresCpuSeconds: await postgresCpuSeconds(),
      loadClientCpuSeconds: Math.round((cpu.user + cpu.system) / 1e5) / 10,
      loadCpuMicros: {
        api: perPurchase('api'),
        worker: perPurchase('worker'),
        postgres: perPurchase('postgres'),
        redis: perPurchase('redis'),
        client: perPurchase('client'),
      },
    };
    process.stderr.write(
      `  ${result.purchasesPerSecond}/s, audit ${result.audit.ok ? 'ok' : 'FAILED'}, errors ${result.errors}\n`,
    );
    // Finished jobs are removed by age and count; what stays is bounded whatever the run's size.
    outcome.redis.memoryMb = await redis.usedMemoryMb();
    return outcome;
  } finally {
    await system.stop();
    await redis.destroy();
    await postgres.destroy();
  }
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
function paced(scenario: Scenario): Scenario {
  if (scenario.pacedAtShareOfHot === undefined) return scenario;
  const hot = outcomes.find((outcome) => outcome.scenario.name === 'hot');
  const rate =
    hot === undefined
      ? PACED_FALLBACK_RATE
      : Math.max(1, Math.round(hot.result.purchasesPerSecond * scenario.pacedAtShareOfHot));
  const basis = hot === undefined ? 'hot was not run: a fixed rate' : 'hot in this run';
  return { ...scenario, what: `${scenario.what}; ${rate}/s (${basis})`, load: { ...scenario.load, rate } };
}

buildServices();
const outcomes: Outcome[] = [];
for (const scenario of scenarios) {
  if (only !== undefined && !only.includes(scenario.name)) continue;
  outcomes.push(await runScenario(paced(scenario)));
}

const rows = outcomes.map(
  ({
    scenario,
    result,
    api,
    worker,
    redis,
    postgresCpuSeconds,
    loadClientCpuSeconds,
    loadCpuMicros: micros,
  }) => {
    const latency = result.latencyMs;
    const submit = result.submitLatencyMs;
    const audit = result.audit.ok ? 'ok' : `FAILED: ${result.audit.violations.slice(0, 3).join('; ')}`;
    return (
      `| ${scenario.name} | ${result.accepted} | **${result.purchasesPerSecond}** | ${latency.p50} / ${latency.p99} / ${latency.p999} | ` +
      `${submit.p50} / ${submit.p99} / ${submit.p999} | ${api.cpuSeconds} / ${worker.cpuSeconds} / ${postgresCpuSeconds} / ${redis.cpuSeconds} / ${loadClientCpuSeconds} | ` +
      `${micros.api} / ${micros.worker} / ${micros.postgres} / ${micros.redis} / ${micros.client} | ` +
      `${api.peakRssMb} / ${worker.peakRssMb} | ${redis.memoryMb} | ${result.confirmed} / ${result.waitlisted} / ${result.cancelled} | ` +
      `${result.errors} | ${audit} |`
    );
  },
);
const hot = outcomes.find((outcome) => outcome.scenario.name === 'hot');
const naive = outcomes.find((outcome) => outcome.scenario.name === 'hot-naive');
const ratio =
  hot !== undefined && naive !== undefined && naive.result.purchasesPerSecond > 0
    ? `hot / hot-naive = **${(hot.result.purchasesPerSecond / naive.result.purchasesPerSecond).toFixed(1)}×** (same run)`
    : 'hot / hot-naive: not measured in this run';
const command = [
  'pnpm bench',
  ...(scale !== 1 ? [`(BENCH_SCALE=${scale})`] : []),
  ...(only ? [`(BENCH_ONLY=${only.join(',')})`] : []),
];

const markdown = [
  '# Benchmark results',
  '',
  `Command: \`${command.join(' ')}\`, run ${new Date().toISOString()}.`,
  '',
  ...machineFacts(),
  '',
  'Purchases/s is end to end: submit → decided, as the load client sees it (closed loop, 512 buyers;',
  'hot-paced is open loop, so its purchases/s is the rate it was offered).',
  'Latencies in ms. CPU is the seconds each part used over the whole scenario, audit included: api',
  '(all its processes), worker(s), the Postgres backends of the run, its Redis server, and the load',
  "client. RSS is the largest single process's peak. Redis memory is measured after the run, with",
  'its finished jobs still held (removed by age and count). CPU µs per purchase counts only the',
  'load itself (submit → decided, no audit), divided by the purchases accepted.',
  '',
  '| scenario | purchases | purchases/s | submit→decided p50 / p99 / p99.9 | submit→202 p50 / p99 / p99.9 | CPU s api / worker / Postgres / Redis / client | CPU µs per purchase under load, same order | peak RSS MB api / worker | Redis MB after | confirmed / waitlisted / cancelled | errors | audit |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|',
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
