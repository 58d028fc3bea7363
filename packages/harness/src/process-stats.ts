import { readFileSync, readdirSync } from 'node:fs';

/** CPU and memory of processes, read from /proc (Linux), for the bench's accounting. */

export interface ProcessStats {
  /** User + system CPU seconds (to the 10 ms the kernel counts in). */
  readonly cpuSeconds: number;
  /** Peak resident memory (VmHWM) of the largest single process, in MB. */
  readonly peakRssMb: number;
}

/** USER_HZ: /proc counts CPU time in these ticks per second (100 on every Linux Node runs on). */
const CLOCK_TICKS = 100;

interface ProcStat {
  readonly ppid: number;
  readonly ticks: number;
  readonly peakKb: number;
}

/** CPU ticks, parent and peak resident memory of one process; undefined once it is gone. */
function procStat(pid: number): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: the fields after it start past the last ')'.
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

/** Whether the process exists and has not exited (a zombie waiting for its parent counts as gone). */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The process and its descendants (an api cluster's primary has its serving processes below it). */
export function processTree(root: number): number[] {
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

/** CPU seconds of these processes, summed, and the largest peak RSS among them. */
export function processStats(pids: readonly number[]): ProcessStats {
  let ticks = 0;
  let peakKb = 0;
  for (const pid of pids) {
    const stat = procStat(pid);
    if (stat === undefined) continue;
    ticks += stat.ticks;
    peakKb = Math.max(peakKb, stat.peakKb);
  }
  return { cpuSeconds: ticks / CLOCK_TICKS, peakRssMb: Math.round(peakKb / 1024) };
}

/** The same over whole process trees: each root and everything below it. */
export function treeStats(roots: readonly number[]): ProcessStats {
  return processStats(roots.flatMap(processTree));
}
