import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_ENV_NAMES, loadApiConfig, loadConfig } from '../src/config.js';
import SERVICES from '../../../scripts/services.json' with { type: 'json' };

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string): string => readFileSync(`${ROOT}${path}`, 'utf8');

interface Service {
  image?: string;
  build?: string;
  working_dir?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  profiles?: string[];
  volumes?: string[];
}

const compose = parse(read('docker-compose.yml')) as { services: Record<string, Service> };
const services = compose.services;
const APP_SERVICES = ['api', 'worker'] as const;

describe('docker-compose.yml', () => {
  it('when parsed, then it has Postgres, Redis, the api and a worker, each with a healthcheck', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['postgres', 'redis', 'api', 'worker']));
    for (const name of ['postgres', 'redis', 'api', 'worker']) {
      expect(services[name]?.healthcheck?.test.length, name).toBeGreaterThan(1);
    }
  });

  it('when Redis starts, then it is configured the way BullMQ asks for production', () => {
    const command = services.redis?.command?.join(' ') ?? '';
    expect(command).toContain('--maxmemory-policy noeviction');
    expect(command).toContain('--appendonly yes');
  });

  it('when the api and worker start, then their settings are valid config names and values that reach the other services', () => {
    for (const name of APP_SERVICES) {
      const service = services[name];
      const environment = service?.environment ?? {};
      // Only settings the config module declares, and together a configuration it accepts.
      expect(
        Object.keys(environment).filter((key) => !CONFIG_ENV_NAMES.includes(key)),
        name,
      ).toEqual([]);
      const config = loadConfig({ ...environment, ADMIN_TOKEN: '' });
      expect(new URL(config.databaseUrl).hostname).toBe('postgres');
      expect(new URL(config.redisUrl).hostname).toBe('redis');
      expect(config.host).toBe('0.0.0.0');
      expect(service?.build).toBe('.');
      expect(service?.depends_on).toEqual({
        postgres: { condition: 'service_healthy' },
        redis: { condition: 'service_healthy' },
      });
    }
  });

  it('when compose starts without ADMIN_TOKEN, then it stops at once, and the api would refuse to listen on 0.0.0.0 without it', () => {
    const environment = services.api?.environment ?? {};
    // `${NAME:?message}`: compose itself refuses to start while the variable is unset or empty.
    expect(environment.ADMIN_TOKEN).toMatch(/^\$\{ADMIN_TOKEN:\?[^}]+\}$/);
    expect(() => loadApiConfig({ ...environment, ADMIN_TOKEN: '' })).toThrow(/ADMIN_TOKEN must be set/);
    expect(loadApiConfig({ ...environment, ADMIN_TOKEN: 'a-token-from-the-operator' }).host).toBe('0.0.0.0');
  });

  it('when a service command runs in the image, then it is the bundle `pnpm build` makes, run as `pnpm start` runs it', () => {
    const build = read('scripts/build.mjs');
    for (const name of APP_SERVICES) {
      const service = services[name];
      const folder = (service?.working_dir ?? '').replace(/^\/app\/?/, '');
      const entry = service?.command?.at(-1) ?? '';
      expect(build, `${name}: ${folder}/${entry}`).toContain(`out: '${folder}/${entry}'`);
      // The same command as the service's own `start` script.
      const manifest = JSON.parse(read(`${folder}/package.json`)) as { scripts: Record<string, string> };
      expect(service?.command?.join(' '), name).toBe(manifest.scripts.start);
      // The bundle and V8 flags `pnpm start`, the bench and the fault suite use.
      expect(`${folder}/${entry}`, name).toBe(SERVICES[name].bundle);
      expect(service?.command?.slice(1, -1), name).toEqual(SERVICES[name].nodeFlags);
      // Whatever its bundle imports from npm resolves from the service's own dependencies.
      expect(existsSync(`${ROOT}${folder}/package.json`)).toBe(true);
    }
  });

  it('when the ports are published or probed, then they match the settings', () => {
    const api = services.api;
    const worker = services.worker;
    const port = api?.environment?.PORT ?? '';
    expect(api?.ports).toEqual([`127.0.0.1:${port}:${port}`]);
    expect(api?.healthcheck?.test.join(' ')).toContain(`127.0.0.1:${port}/ready`);
    const metricsPort = worker?.environment?.WORKER_METRICS_PORT ?? '0';
    expect(Number(metricsPort)).toBeGreaterThan(0);
    expect(worker?.healthcheck?.test.join(' ')).toContain(`127.0.0.1:${metricsPort}/metrics`);
    const prometheus = parse(read('ops/prometheus.yml')) as {
      scrape_configs: {
        job_name: string;
        static_configs?: { targets: string[] }[];
        dns_sd_configs?: { port: number }[];
      }[];
    };
    const jobs = new Map(prometheus.scrape_configs.map((job) => [job.job_name, job]));
    expect(jobs.get('api')?.static_configs?.[0]?.targets).toEqual([`api:${port}`]);
    expect(jobs.get('worker')?.dns_sd_configs?.[0]?.port).toBe(Number(metricsPort));
  });
});

describe("docker-compose.yml's monitoring profile", () => {
  const inContainer = (service: Service | undefined, target: string): string | undefined =>
    service?.volumes
      ?.map((volume) => volume.split(':'))
      .find(([, mounted]) => mounted === target)?.[0]
      ?.replace(/^\.\//, '');

  it('when the profile is brought up, then Prometheus and Grafana come with it, on loopback only', () => {
    for (const name of ['prometheus', 'grafana']) {
      const service = services[name];
      expect(service?.profiles, name).toEqual(['monitoring']);
      expect(service?.image, name).toMatch(/:v?\d+\.\d+\.\d+$/);
      for (const port of service?.ports ?? []) expect(port, name).toMatch(/^127\.0\.0\.1:/);
    }
    // The app's services run without the profile.
    for (const name of ['postgres', 'redis', ...APP_SERVICES])
      expect(services[name]?.profiles, name).toBeUndefined();
    expect(inContainer(services.prometheus, '/etc/prometheus/prometheus.yml')).toBe('ops/prometheus.yml');
    expect(services.grafana?.depends_on).toEqual({ prometheus: { condition: 'service_started' } });
    // Anonymous visitors may look but not edit.
    expect(services.grafana?.environment?.GF_AUTH_ANONYMOUS_ORG_ROLE).toBe('Viewer');
  });

  it('when Grafana starts, then it finds Prometheus and loads the dashboard, whose panels use that data source', () => {
    const grafana = services.grafana;
    const provisioning = inContainer(grafana, '/etc/grafana/provisioning') ?? '';
    const datasources = parse(read(`${provisioning}/datasources/prometheus.yml`)) as {
      datasources: { uid: string; type: string; url: string; jsonData?: { timeInterval?: string } }[];
    };
    const [prometheus] = datasources.datasources;
    expect(prometheus?.type).toBe('prometheus');
    const port = services.prometheus?.ports?.[0]?.split(':').at(-1);
    expect(prometheus?.url).toBe(`http://prometheus:${port}`);
    // Grafana's $__rate_interval is four of Prometheus' scrape intervals.
    const scrape = parse(read('ops/prometheus.yml')) as { global: { scrape_interval: string } };
    expect(prometheus?.jsonData?.timeInterval).toBe(scrape.global.scrape_interval);

    const providers = parse(read(`${provisioning}/dashboards/ticketing.yml`)) as {
      providers: { type: string; options: { path: string } }[];
    };
    const folder = providers.providers[0]?.options.path ?? '';
    const mounted = inContainer(grafana, folder) ?? '';
    expect(mounted).toBe('ops/grafana/dashboards');
    const home = grafana?.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH ?? '';
    expect(home.startsWith(`${folder}/`)).toBe(true);
    const dashboard = JSON.parse(read(`${mounted}${home.slice(folder.length)}`)) as {
      panels: { title: string; datasource: { uid: string }; targets: { datasource: { uid: string } }[] }[];
      templating: { list: { datasource?: { uid: string } }[] };
    };
    expect(dashboard.panels.length).toBeGreaterThan(0);
    for (const panel of dashboard.panels) {
      expect(panel.datasource.uid, panel.title).toBe(prometheus?.uid);
      for (const target of panel.targets) expect(target.datasource.uid, panel.title).toBe(prometheus?.uid);
    }
    for (const variable of dashboard.templating.list) expect(variable.datasource?.uid).toBe(prometheus?.uid);
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  it('when built, then it is multi-stage, installs production dependencies only and runs as a non-root user', () => {
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/pnpm install --frozen-lockfile --prod/);
    const user = /^USER (\S+)/m.exec(dockerfile)?.[1];
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    // Each service's bundle comes from the build stage.
    for (const folder of ['services/api/dist', 'services/worker/dist'])
      expect(dockerfile).toContain(`COPY --from=build /app/${folder} ${folder}`);
    // By default the image runs the api as compose does.
    const cmd = JSON.parse(/^CMD (.+)$/m.exec(dockerfile)?.[1] ?? '[]') as string[];
    expect(cmd).toEqual(services.api?.command);
  });
});
