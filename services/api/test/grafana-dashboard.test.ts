import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessSystem } from '@ticketing/harness';
import { useTestEnvironment } from '@ticketing/shared/testing';
import { loadOptions, runLoad } from '@ticketing/loadtest';
import { startPrometheus, type PrometheusServer } from './support/prometheus.js';

/**
 * The Grafana dashboard of compose's monitoring profile, proven against a real Prometheus: it scrapes
 * a real api and worker process during a short on-sale, and every query of every panel (and of the
 * dashboard's variable) must come back with data.
 */
interface Dashboard {
  panels: { title: string; targets: { expr: string; legendFormat?: string }[] }[];
  templating: {
    list: {
      name: string;
      includeAll?: boolean;
      allValue?: string;
      current?: { value: string | string[] };
      definition: string;
    }[];
  };
}

const dashboard = JSON.parse(
  readFileSync(new URL('../../../ops/grafana/dashboards/ticketing.json', import.meta.url), 'utf8'),
) as Dashboard;

/**
 * A panel's query as Grafana sends it: its variables replaced. `$__rate_interval` is what Grafana
 * makes of it with the data source's scrape interval: four scrapes.
 */
function asGrafanaSends(expr: string, scrapeSeconds: number): string {
  const values = new Map<string, string>([['__rate_interval', `${4 * scrapeSeconds}s`]]);
  for (const variable of dashboard.templating.list) {
    const current = variable.current?.value;
    const all = current === '$__all' || (Array.isArray(current) && current.includes('$__all'));
    values.set(variable.name, all && variable.includeAll ? (variable.allValue ?? '.*') : String(current));
  }
  return expr.replace(/\$(?:\{(\w+)\}|(\w+))/g, (whole, braced?: string, bare?: string) => {
    const value = values.get(braced ?? bare ?? '');
    if (value === undefined) throw new Error(`unknown variable ${whole} in ${expr}`);
    return value;
  });
}

const environment = await useTestEnvironment();
const system = await ProcessSystem.create({
  postgres: environment.postgres,
  redis: environment.redis,
  // The reconciler sweeps every second, so that its panel has sweeps to show.
  serviceEnv: { worker: { RECONCILE_INTERVAL_MS: '1000' } },
});
let prometheus: PrometheusServer;

beforeAll(async () => {
  const api = await system.startApi();
  const [worker] = await system.startWorkers(1);
  // The same job names as ops/prometheus.yml.
  prometheus = await startPrometheus({ api: api.listener, worker: worker!.listener });
}, 180_000);

afterAll(async () => {
  await prometheus?.stop();
  await system.stop();
});

describe('the Grafana dashboard on a real Prometheus', () => {
  it('when Prometheus scrapes an api and a worker through an on-sale, then every query of the dashboard returns data', async () => {
    const loadStarted = Date.now() / 1000;
    const result = await runLoad(
      loadOptions({
        url: system.url,
        events: 2,
        tickets: 150,
        purchases: 1_200,
        concurrency: 48,
        quantity: { min: 1, max: 2 },
        cancelRatio: 0.1,
        priceCents: 1_000,
      }),
    );
    expect(result.errors, result.errorSamples.join('\n')).toBe(0);
    expect(result.audit).toEqual({ ok: true, violations: [] });
    // Two more scrapes of both processes, so the last of the sale is in.
    await new Promise((resolve) => setTimeout(resolve, 2_500 * prometheus.scrapeSeconds));
    const range = { start: Math.floor(loadStarted) - 2, end: Math.ceil(Date.now() / 1000), step: 1 };

    const queries = dashboard.panels.flatMap((panel) =>
      panel.targets.map((target) => ({ panel: panel.title, legend: target.legendFormat, expr: target.expr })),
    );
    expect(queries.length).toBeGreaterThanOrEqual(10);
    const peaks = new Map<string, number>();
    for (const query of queries) {
      const what = `${query.panel} / ${query.legend}: ${query.expr}`;
      const series = await prometheus.query(asGrafanaSends(query.expr, prometheus.scrapeSeconds), range);
      expect(series.length, what).toBeGreaterThan(0);
      // A series of nothing but NaN (a quantile of no observations) draws nothing.
      const values = series.flatMap((one) => one.values.map(([, value]) => Number(value)));
      const finite = values.filter((value) => Number.isFinite(value));
      expect(finite.length, what).toBeGreaterThan(0);
      peaks.set(`${query.panel} / ${query.legend}`, Math.max(...finite));
    }
    // What the sale did shows where it should.
    for (const line of [
      'On-sale rate by outcome / accepted',
      'On-sale rate by outcome / {{outcome}}',
      'Purchase requests by status / {{status_code}}',
      'Accept latency / p99',
      'Decide latency / p99',
      'Round size / mean',
      'Round duration / rounds/s',
      'Reconciler / sweeps/s',
      'Process memory / {{job}} {{instance}} resident',
    ])
      expect(peaks.get(line), line).toBeGreaterThan(0);

    // The dashboard's variable lists the sale's events.
    for (const variable of dashboard.templating.list) {
      const [, metric, label] = /^label_values\((\w+), (\w+)\)$/.exec(variable.definition) ?? [];
      expect(metric, variable.definition).toBeDefined();
      const series = await prometheus.query(`count by (${label}) (${metric})`);
      expect(series.length, variable.definition).toBeGreaterThanOrEqual(2);
    }
  }, 180_000);
});
