import { describe, expect, it } from 'vitest';
import { HttpError, errorKind } from '../src/client.js';
import { jsonForScript } from '../src/report.js';
import { Latencies } from '../src/stats.js';

/** The exact percentile: the smallest sample with at least `fraction` of all samples at or below it. */
function exact(sorted: readonly number[], fraction: number): number {
  return sorted[Math.max(0, Math.ceil(fraction * sorted.length) - 1)] ?? 0;
}

describe('latencies', () => {
  it('when many samples are recorded, then the percentiles match the exact ones within 0.1% (and 0.1 ms)', () => {
    const latencies = new Latencies();
    const samples: number[] = [];
    // A long tail: most requests fast, a few very slow.
    for (let index = 0; index < 200_000; index += 1) {
      const ms = index % 1000 === 0 ? 2000 + Math.random() * 8000 : 1 + Math.random() ** 3 * 200;
      samples.push(ms);
      latencies.add(ms);
    }
    samples.sort((a, b) => a - b);
    const summary = latencies.summary();
    expect(latencies.count).toBe(200_000);
    for (const [value, fraction] of [
      [summary.p50, 0.5],
      [summary.p99, 0.99],
      [summary.p999, 0.999],
      [summary.max, 1],
    ] as const) {
      const truth = exact(samples, fraction);
      expect(Math.abs(value - truth), `p${fraction * 100}`).toBeLessThanOrEqual(truth * 0.001 + 0.1);
    }
  });

  it('when an interval is taken, then it holds only the samples since the last one', () => {
    const latencies = new Latencies();
    for (const ms of [10, 20, 30]) latencies.add(ms);
    expect(latencies.takeInterval()).toMatchObject({ count: 3, max: 30 });
    latencies.add(5);
    expect(latencies.takeInterval()).toMatchObject({ count: 1, p50: 5, max: 5 });
    expect(latencies.takeInterval()).toEqual({ count: 0, p50: 0, p99: 0, p999: 0, max: 0 });
    expect(latencies.summary().max).toBe(30);
  });
});

describe('errors by kind', () => {
  it('when requests fail, then HTTP answers count by status and code, transport failures by their code', () => {
    const body = JSON.stringify({ code: 'unavailable', message: 'A backing service is unavailable' });
    expect(errorKind(new HttpError(503, body, 'POST /events/x/purchases'))).toBe('HTTP 503 unavailable');
    expect(errorKind(new HttpError(502, '<html>bad gateway</html>', 'GET /'))).toBe('HTTP 502');
    expect(errorKind(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(
      'ECONNREFUSED',
    );
    expect(errorKind(new TypeError('x'))).toBe('TypeError');
  });
});

describe('the report', () => {
  it('when an error message holds markup, then the JSON in the page cannot end its script element', () => {
    const text = jsonForScript({ sample: '</script><script>alert(1)</script> & <!--' });
    expect(text).not.toMatch(/[<>&]/);
    expect(JSON.parse(text)).toEqual({ sample: '</script><script>alert(1)</script> & <!--' });
  });
});
