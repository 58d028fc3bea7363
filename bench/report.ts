import { CPU_PARTS, systemCpu, type ResultRow } from './bench-types.js';

const latency = (summary: ResultRow['latencyMs']): string =>
  summary === undefined ? '' : `${summary.p50} / ${summary.p99} / ${summary.p999}`;

const times = (value: number): string => `${value.toFixed(value < 10 ? 2 : 1)}×`;

function resultTable(rows: readonly ResultRow[]): string[] {
  return [
    '| scenario | units | per second | submit→decided ms p50 / p99 / p99.9 | submit→response ms p50 / p99 / p99.9 | CPU µs per unit api / worker / Postgres / Redis / client | system CPU µs per unit | peak RSS MB api / worker | Redis MB after | confirmed / waitlisted / cancelled | errors | audit |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((row) => {
      const cpu = CPU_PARTS.map((part) => row.cpuMicros[part]).join(' / ');
      const rss = row.peakRssMb === undefined ? '' : `${row.peakRssMb.api} / ${row.peakRssMb.worker}`;
      return (
        `| ${row.name} | ${row.units} ${row.unit}s | **${row.perSecond}** | ${latency(row.latencyMs)} | ` +
        `${latency(row.submitLatencyMs)} | ${cpu} | ${systemCpu(row.cpuMicros)} | ${rss} | ${row.redisMb ?? ''} | ` +
        `${row.outcomes ?? ''} | ${row.errors} | ${row.audit} |`
      );
    }),
  ];
}

/** Every row as multiples of one HTTP exchange (`floor`), the unit that holds across machines. */
function floorTable(rows: readonly ResultRow[], floor: ResultRow): string[] {
  const unit = systemCpu(floor.cpuMicros);
  return [
    `One floor request costs ${unit} µs of system CPU (api, Postgres, Redis: all outside the load client) and`,
    `the floor answers ${floor.perSecond} requests/s. Each row's CPU per unit and rate divided by those:`,
    '',
    '| scenario | per second ÷ floor | system CPU per unit ÷ floor | api | worker | Postgres | Redis | client |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (row) =>
        `| ${row.name} | ${times(row.perSecond / floor.perSecond)} | **${times(systemCpu(row.cpuMicros) / unit)}** | ` +
        CPU_PARTS.map((part) => times(row.cpuMicros[part] / unit)).join(' | ') +
        ' |',
    ),
  ];
}

interface Verdict {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean | undefined;
}

/** The targets, each checked against this run's rows (not measured: the rows are missing). */
function verdicts(rows: readonly ResultRow[]): Verdict[] {
  const row = (name: string): ResultRow | undefined => rows.find((candidate) => candidate.name === name);
  const floor = row('floor');
  const unit = floor === undefined ? undefined : systemCpu(floor.cpuMicros);
  const out: Verdict[] = [];
  const check = (target: string, measure: () => { measured: string; met: boolean } | undefined): void => {
    const result = measure();
    out.push(
      result === undefined ? { target, measured: 'not measured', met: undefined } : { target, ...result },
    );
  };
  const cpuRatio = (name: string): number | undefined => {
    const measured = row(name);
    return measured === undefined || unit === undefined ? undefined : systemCpu(measured.cpuMicros) / unit;
  };
  const rateRatio = (name: string, of: string): number | undefined => {
    const [a, b] = [row(name), row(of)];
    return a === undefined || b === undefined || b.perSecond === 0 ? undefined : a.perSecond / b.perSecond;
  };
  const atMost = (value: number | undefined, limit: number) =>
    value === undefined ? undefined : { measured: times(value), met: value <= limit };
  const atLeast = (value: number | undefined, limit: number) =>
    value === undefined ? undefined : { measured: times(value), met: value >= limit };

  for (const name of ['hot', 'hot-wait']) {
    check(`${name}: system CPU per decided purchase ≤ 7 × floor's per request`, () =>
      atMost(cpuRatio(name), 7),
    );
  }
  check("drain (one event): purchases/s ≥ 0.5 × floor's requests/s", () =>
    atLeast(rateRatio('drain', 'floor'), 0.5),
  );
  check('drain-1000 (1,000 events): at least as fast as drain', () =>
    atLeast(rateRatio('drain-1000', 'drain'), 1),
  );
  check("accept: system CPU per purchase ≤ 2.5 × floor's per request", () => atMost(cpuRatio('accept'), 2.5));
  for (const name of ['hot', 'hot-wait']) {
    check(`${name}: purchases/s ≥ 2 × no-queue`, () => atLeast(rateRatio(name, 'no-queue'), 2));
    check(`${name}: purchases/s ≥ 6 × bullmq-plain`, () => atLeast(rateRatio(name, 'bullmq-plain'), 6));
  }
  check('many (1,000 events): purchases/s ≥ 0.9 × hot', () => atLeast(rateRatio('many', 'hot'), 0.9));
  check('hot-paced (open loop at 50% of hot): submit → 202 p99 ≤ 50 ms', () => {
    const paced = row('hot-paced')?.submitLatencyMs;
    return paced === undefined ? undefined : { measured: `${paced.p99} ms`, met: paced.p99 <= 50 };
  });
  check('long-waitlist: CPU per position read at the larger list ≤ 1.5 × at the smaller', () => {
    const reads = rows.filter((candidate) => candidate.name.startsWith('long-waitlist read'));
    const [small, large] = reads;
    if (small === undefined || large === undefined) return undefined;
    return atMost(systemCpu(large.cpuMicros) / Math.max(1, systemCpu(small.cpuMicros)), 1.5);
  });
  // A promotion's CPU against a hot purchase's: both rows' system CPU per unit, from the same run.
  const perHotPurchase = (candidate: ResultRow | undefined): number | undefined => {
    const hot = row('hot');
    return candidate === undefined || hot === undefined
      ? undefined
      : systemCpu(candidate.cpuMicros) / Math.max(1, systemCpu(hot.cpuMicros));
  };
  check("long-waitlist: a promoting cancellation ≤ 10 × hot's CPU per purchase, at each size", () => {
    const ratios = rows
      .filter((candidate) => candidate.name.startsWith('long-waitlist promotion'))
      .map(perHotPurchase);
    if (ratios.length === 0 || ratios.some((ratio) => ratio === undefined)) return undefined;
    return atMost(Math.max(...(ratios as number[])), 10);
  });
  check("long-waitlist: a burst of cancellations ≤ 3 × hot's CPU per purchase, per cancellation", () =>
    atMost(perHotPurchase(rows.find((candidate) => candidate.name.startsWith('long-waitlist burst'))), 3),
  );
  check('onsale: the first decision ≤ 1 s after salesStartAt', () => {
    const ms = row('onsale-draw')?.startToFirstDecisionMs;
    return ms === undefined ? undefined : { measured: `${ms} ms`, met: ms <= 1_000 };
  });
  check('onsale-draw: the drawn pre-queue decided at ≥ 0.9 × drain', () =>
    atLeast(rateRatio('onsale-draw', 'drain'), 0.9),
  );
  check('onsale-accept: the pre-queue accepted at ≥ 0.9 × accept', () =>
    atLeast(rateRatio('onsale-accept', 'accept'), 0.9),
  );
  check('cancel-event: an event cancelled at ≥ 1 × the rate its purchases were decided at', () =>
    atLeast(rateRatio('cancel-event', 'cancel-event-drain'), 1),
  );
  check('every audit passes', () =>
    rows.length === 0
      ? undefined
      : {
          measured: `${rows.filter((candidate) => candidate.audit.startsWith('FAILED')).length} failed`,
          met: rows.every((candidate) => !candidate.audit.startsWith('FAILED')),
        },
  );
  check('api and worker peak RSS ≤ 200 MB in every scenario', () => {
    const peaks = rows.flatMap((candidate) =>
      candidate.peakRssMb === undefined ? [] : [candidate.peakRssMb.api, candidate.peakRssMb.worker],
    );
    return peaks.length === 0
      ? undefined
      : { measured: `${Math.max(...peaks)} MB`, met: Math.max(...peaks) <= 200 };
  });
  return out;
}

const verdictMark = (met: boolean | undefined): string =>
  met === undefined ? '–' : met ? 'met' : '**missed**';

export function renderResults(options: {
  readonly rows: readonly ResultRow[];
  readonly command: string;
  readonly facts: readonly string[];
  readonly scenarios: readonly { name: string; what: string }[];
}): string {
  const { rows } = options;
  const floor = rows.find((row) => row.name === 'floor');
  return [
    '# Benchmark results',
    '',
    `Command: \`${options.command}\`, run ${new Date().toISOString()}.`,
    '',
    ...options.facts,
    '',
    'How to read this: docs/performance.md. Per second is end to end as the load client sees it',
    '(submit → decided, closed loop, 512 buyers, unless the scenario says otherwise); for `accept` it is',
    'purchases accepted, for `drain` purchases decided from the first decision to the last. CPU is µs per',
    'unit of work while the work ran (the audit excluded), for each process: api (all its processes),',
    'worker(s), the Postgres backends of the run, its Redis server, the load client. System CPU is all',
    "of them but the client. RSS is the largest single process's peak.",
    '',
    ...resultTable(rows),
    '',
    '## As multiples of floor',
    '',
    ...(floor === undefined ? ['floor was not part of this run.'] : floorTable(rows, floor)),
    '',
    '## Targets',
    '',
    '| target | this run | verdict |',
    '|---|---|---|',
    ...verdicts(rows).map(
      (verdict) => `| ${verdict.target} | ${verdict.measured} | ${verdictMark(verdict.met)} |`,
    ),
    '',
    '## Scenarios',
    '',
    ...options.scenarios.map((scenario) => `- **${scenario.name}**: ${scenario.what}`),
    '',
  ].join('\n');
}
