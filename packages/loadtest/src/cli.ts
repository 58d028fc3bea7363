import { writeFile } from 'node:fs/promises';
import { parseOptions, USAGE, type LoadOptions } from './options.js';
import { renderReport } from './report.js';
import { runLoad, type LoadResult } from './run.js';

/** The operations done to the sales, in order, once each (they were done to every event). */
function describeOperations(done: NonNullable<LoadResult['saleOperations']>['done']): string {
  const first = done.filter((operation) => operation.eventId === done[0]?.eventId);
  return first
    .map((operation) =>
      operation.kind === 'resize'
        ? `resize to ${operation.totalTickets}${operation.refused !== undefined ? ` (${operation.refused})` : ''}`
        : operation.kind,
    )
    .join(', ');
}

function printSummary(result: LoadResult): void {
  const rows: [string, string][] = [
    ['duration', `${result.durationSeconds} s`],
    ['purchases/s (submit → decided)', String(result.purchasesPerSecond)],
    ['accepted', String(result.accepted)],
    [
      'confirmed / waitlisted / rejected / cancelled',
      `${result.confirmed} / ${result.waitlisted} / ${result.rejected} / ${result.cancelled}`,
    ],
    ...(result.options.holdSeconds > 0
      ? ([
          [
            'holds: paid / expired / refused confirms / still held',
            `${result.holdsConfirmed} / ${result.expired} / ${result.confirmsRefused} / ${result.held}`,
          ],
          ['holds settled after the load in', `${result.settleSeconds} s`],
        ] as [string, string][])
      : []),
    [
      'errors',
      [
        String(result.errors),
        ...Object.entries(result.errorsByKind).map(([kind, count]) => `${kind}: ${count}`),
      ].join(', '),
    ],
    [
      'submit → decided p50 / p99 / p99.9',
      `${result.latencyMs.p50} / ${result.latencyMs.p99} / ${result.latencyMs.p999} ms`,
    ],
    [
      'submit → 202 p50 / p99 / p99.9',
      `${result.submitLatencyMs.p50} / ${result.submitLatencyMs.p99} / ${result.submitLatencyMs.p999} ms`,
    ],
    ...(result.onSale ?? []).flatMap((sale): [string, string][] => [
      [`on-sale ${sale.eventId.slice(0, 8)}: pre-queue / after the start`, `${sale.entrants} / ${sale.late}`],
      [
        '  start → first decision',
        sale.firstDecisionMs === undefined ? 'none' : `${sale.firstDecisionMs} ms`,
      ],
      [
        '  mean place: fast / paced (z of fast)',
        `${sale.fast.meanPlace} / ${sale.paced.meanPlace} (z ${sale.fastZ})`,
      ],
    ]),
    ...(result.saleOperations === undefined
      ? []
      : ([
          ['sale operations (per event)', describeOperations(result.saleOperations.done)],
          ['refused after the sale ended', String(result.saleOperations.refusedAfterEnd)],
        ] as [string, string][])),
    ['audit', result.audit.ok ? 'ok' : `FAILED (${result.audit.violations.length} violations)`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  for (const [label, value] of rows) process.stdout.write(`${label.padEnd(width)}  ${value}\n`);
  for (const violation of result.audit.violations) process.stdout.write(`  violation: ${violation}\n`);
  for (const sample of result.errorSamples) process.stdout.write(`  error: ${sample}\n`);
}

let options: LoadOptions;
try {
  options = parseOptions(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  if (!(error instanceof Error && error.message === USAGE)) process.stderr.write(`\n${USAGE}\n`);
  process.exit(2);
}

const live = !options.quiet;
const tty = process.stderr.isTTY === true;
const result = await runLoad(options, (line) => {
  if (live) process.stderr.write(tty ? `\r${line.padEnd(100)}` : `${line}\n`);
});
if (live && tty) process.stderr.write('\n');
printSummary(result);
if (options.json !== undefined) await writeFile(options.json, `${JSON.stringify(result, null, 2)}\n`);
if (options.report !== undefined) {
  await writeFile(options.report, renderReport(result, new Date()));
  process.stdout.write(`report written to ${options.report}\n`);
}
process.exit(result.audit.ok && result.errors === 0 ? 0 : 1);
