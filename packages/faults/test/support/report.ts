import { appendFileSync } from 'node:fs';
import type { Books } from '../../src/books.js';

export interface ScenarioResult extends Books {
  readonly scenario: string;
  /** Seconds from the end of the load and of the faults until every accepted purchase was final. */
  readonly secondsToAllFinal: number;
  readonly notes: string;
}

const COLUMNS: [string, (result: ScenarioResult) => string][] = [
  ['scenario', (result) => result.scenario],
  ['accepted', (result) => String(result.accepted)],
  ['final', (result) => String(result.final)],
  ['confirmed', (result) => String(result.confirmed)],
  ['waitlisted', (result) => String(result.waitlisted)],
  ['lost', (result) => String(result.lost)],
  ['duplicated', (result) => String(result.duplicated)],
  ['oversold', (result) => String(result.oversold)],
  [
    'decided within p50 / p99 / max',
    ({ waitSeconds: wait }) => `${wait.p50.toFixed(1)} / ${wait.p99.toFixed(1)} / ${wait.max.toFixed(1)} s`,
  ],
  ['all final after', (result) => `${result.secondsToAllFinal.toFixed(1)} s`],
  ['faults and observations', (result) => result.notes],
];

/** Prints the scenario as a Markdown table row (with its header), and appends it to FAULTS_REPORT if set. */
export function report(result: ScenarioResult): void {
  const header = `| ${COLUMNS.map(([name]) => name).join(' | ')} |`;
  const rule = `| ${COLUMNS.map(() => '---').join(' | ')} |`;
  const row = `| ${COLUMNS.map(([, cell]) => cell(result)).join(' | ')} |`;
  console.log(`\n${header}\n${rule}\n${row}\n`);
  if (result.violations.length > 0) console.log(`violations:\n  ${result.violations.join('\n  ')}`);
  const file = process.env.FAULTS_REPORT;
  if (file !== undefined && file !== '') appendFileSync(file, `${row}\n`);
}
