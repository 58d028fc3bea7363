import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { freePort, waitFor } from '@ticketing/harness';

/**
 * Reads one value out of Prometheus' text format: the sum of the samples of `name` whose labels
 * include `labels` (0 when there is none).
 */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const present = new Map(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((label) => [label[1], label[2]]),
    );
    if (Object.entries(labels).every(([key, value]) => present.get(key) === value)) total += Number(match[3]);
  }
  return total;
}

/** A real Prometheus (Debian's), started by a test on a free loopback port with its own storage. */
export interface PrometheusServer {
  readonly url: string;
  /** The scrape interval, in seconds, of the generated configuration. */
  readonly scrapeSeconds: number;
  /** An instant (`time`) or range query of the HTTP API; throws unless Prometheus answers success. */
  query(expr: string, range?: { start: number; end: number; step: number }): Promise<PrometheusSeries[]>;
  stop(): Promise<void>;
}

export interface PrometheusSeries {
  readonly metric: Record<string, string>;
  /** [unix seconds, value as text]: one for an instant query, several for a range query. */
  readonly values: [number, string][];
}

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/**
 * Installs Prometheus when missing (`scripts/ensure-prometheus.sh`: CI runs only `pnpm test`, so the
 * test must provide it), writes a scrape configuration for `targets` (job name → host:port) and starts
 * it, waiting until every target has been scraped once.
 */
export async function startPrometheus(
  targets: Record<string, string>,
  scrapeSeconds = 1,
): Promise<PrometheusServer> {
  const binary = execFileSync('bash', [`${ROOT}scripts/ensure-prometheus.sh`], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  const dir = mkdtempSync(join(tmpdir(), 'ticketing-prometheus-'));
  const config = {
    global: { scrape_interval: `${scrapeSeconds}s`, evaluation_interval: `${scrapeSeconds}s` },
    scrape_configs: Object.entries(targets).map(([job, target]) => ({
      job_name: job,
      static_configs: [{ targets: [target] }],
    })),
  };
  writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
  const port = await freePort();
  const child = spawn(
    binary,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=1h',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;

  async function query(
    expr: string,
    range?: { start: number; end: number; step: number },
  ): Promise<PrometheusSeries[]> {
    const params = new URLSearchParams({ query: expr });
    if (range !== undefined) for (const [key, value] of Object.entries(range)) params.set(key, String(value));
    const response = await fetch(`${url}/api/v1/${range === undefined ? 'query' : 'query_range'}?${params}`);
    const body = (await response.json()) as {
      status: string;
      error?: string;
      data?: {
        result: { metric: Record<string, string>; value?: [number, string]; values?: [number, string][] }[];
      };
    };
    if (body.status !== 'success')
      throw new Error(`Prometheus refused ${expr}: ${body.error ?? response.status}`);
    return (body.data?.result ?? []).map((series) => ({
      metric: series.metric,
      values: series.values ?? (series.value === undefined ? [] : [series.value]),
    }));
  }

  const server: PrometheusServer = {
    url,
    scrapeSeconds,
    query,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitFor('Prometheus to be ready', () => fetch(`${url}/-/ready`).then((response) => response.ok));
    await waitFor(
      'every target to be scraped',
      async () =>
        (await query('up')).filter((series) => series.values[0]?.[1] === '1').length ===
        Object.keys(targets).length,
    );
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}
