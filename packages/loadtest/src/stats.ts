import { build, type Histogram } from 'hdr-histogram-js';

export interface LatencySummary {
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/**
 * HDR histograms record every sample in constant memory, to 3 significant digits (within 0.1%), at
 * any volume: a p99.9 over millions of samples is read from all of them, not from a sample of them.
 * Recorded in microseconds; summaries are in milliseconds, to 0.1 ms.
 */
const histogram = (): Histogram => build({ lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3 });

const toMs = (micros: number): number => Math.round(micros / 100) / 10;

function summarise(samples: Histogram): LatencySummary {
  if (samples.totalCount === 0) return { p50: 0, p99: 0, p999: 0, max: 0 };
  return {
    p50: toMs(samples.getValueAtPercentile(50)),
    p99: toMs(samples.getValueAtPercentile(99)),
    p999: toMs(samples.getValueAtPercentile(99.9)),
    max: toMs(samples.maxValue),
  };
}

/** Latencies in milliseconds: of the whole run, and of the interval since the last `takeInterval`. */
export class Latencies {
  private readonly all = histogram();
  private readonly interval = histogram();

  add(ms: number): void {
    const micros = Math.max(1, Math.round(ms * 1000));
    this.all.recordValue(micros);
    this.interval.recordValue(micros);
  }

  get count(): number {
    return this.all.totalCount;
  }

  summary(): LatencySummary {
    return summarise(this.all);
  }

  /** The samples recorded since the last call (one point of a time series); starts a new interval. */
  takeInterval(): LatencySummary & { readonly count: number } {
    const summary = { ...summarise(this.interval), count: this.interval.totalCount };
    this.interval.reset();
    return summary;
  }
}
