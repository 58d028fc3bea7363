import { runLoad, type LoadOptions } from '../../packages/loadtest/src/index.js';
import { cpuPerUnit, type BenchSystem, type CpuSplit, type ResultRow } from '../bench-types.js';
import { DecisionWatch } from '../decisions.js';

/**
 * The two halves of the pipeline apart. `accept`: the api alone takes every purchase (no worker runs,
 * so nothing competes with it); then `drain`: one worker starts and decides that backlog. The drain is
 * timed from its first announced decision to its last, so the worker's start-up is not counted.
 */
export async function runBacklog(
  system: BenchSystem,
  names: { readonly accept: string; readonly drain: string },
  what: string,
  options: LoadOptions,
  progress: (line: string) => void,
): Promise<ResultRow[]> {
  let acceptEnd: CpuSplit | undefined;
  let drainStart: CpuSplit | undefined;
  let drainEnd: CpuSplit | undefined;
  let drainSeconds = 0;
  let decided = 0;
  const acceptStart = await system.cpu();
  const result = await runLoad({ ...options, acceptOnly: true }, progress, async () => {
    acceptEnd = await system.cpu();
    const watch = await DecisionWatch.start(system);
    try {
      await system.startWorkers(1);
      await watch.first();
      drainStart = await system.cpu();
      await watch.until(system, options.purchases);
      drainEnd = await system.cpu();
      decided = watch.decided;
      drainSeconds = (watch.lastAt - (watch.firstAt ?? watch.lastAt) || 1) / 1000;
    } finally {
      watch.close();
    }
  });
  if (acceptEnd === undefined || drainStart === undefined || drainEnd === undefined) {
    throw new Error('backlog run ended before its drain');
  }
  const audit = result.audit.ok ? 'ok' : `FAILED: ${result.audit.violations.slice(0, 3).join('; ')}`;
  const outcomes = `${result.confirmed} / ${result.waitlisted} / ${result.cancelled}`;
  return [
    {
      name: names.accept,
      what: `${what}: the api accepts them with no worker running`,
      units: result.accepted,
      unit: 'purchase',
      perSecond: result.purchasesPerSecond,
      submitLatencyMs: result.submitLatencyMs,
      cpuMicros: cpuPerUnit(acceptStart, acceptEnd, result.accepted),
      errors: result.errors,
      audit,
    },
    {
      name: names.drain,
      what: `then one worker decides that backlog (first decision to last)`,
      units: decided,
      unit: 'purchase',
      perSecond: Math.round(decided / drainSeconds),
      cpuMicros: cpuPerUnit(drainStart, drainEnd, decided),
      outcomes,
      errors: 0,
      audit,
    },
  ];
}
