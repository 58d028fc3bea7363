import { isIP } from 'node:net';
import { parseDatabaseUrl } from './db/postgres-hosts.js';
import { UNSAFE_SWITCHES_ENV } from './unsafe-switches.js';

// The one place that reads `process.env` for settings (unsafe-switches.ts reads the test-only
// switches, and this refuses them). Every setting is declared once here (`settings` below: its
// environment name, default, description and parser), validated at start-up and frozen; the rest of
// the code receives a typed `Config`, and docs/operations.md's table is rendered from the same list.

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;
type Parser<T> = (raw: string) => T | { problem: string };

const integer =
  (min: number, max: number): Parser<number> =>
  (raw) => {
    const value = Number(raw);
    return /^\d+$/.test(raw) && value >= min && value <= max
      ? value
      : { problem: `must be a whole number from ${min} to ${max}` };
  };

const url =
  (protocols: readonly string[]): Parser<string> =>
  (raw) => {
    try {
      const parsed = new URL(raw);
      return protocols.includes(parsed.protocol)
        ? raw
        : { problem: `must be a ${protocols.join(' or ')}// URL` };
    } catch {
      return { problem: 'must be a URL' };
    }
  };

/** A Postgres URL, possibly with several hosts (libpq's form, which the WHATWG parser rejects). */
const databaseUrl: Parser<string> = (raw) => {
  try {
    parseDatabaseUrl(raw);
    return raw;
  } catch (error) {
    return { problem: error instanceof Error ? error.message : String(error) };
  }
};

/** A Redis Cluster node a process first connects to; it learns the others from the cluster. */
export interface RedisClusterNode {
  readonly host: string;
  readonly port: number;
}

/** `host:port,host:port,…` (IPv6 hosts in brackets): the seed nodes of a Redis Cluster. */
const hostPorts: Parser<readonly RedisClusterNode[]> = (raw) => {
  const nodes = raw.split(',').map((entry) => /^(\[[^\]]+\]|[^\s:[\]]+):(\d{1,5})$/.exec(entry.trim()));
  const parsed = nodes.map((match) =>
    match === null || Number(match[2]) < 1 || Number(match[2]) > 65535
      ? undefined
      : { host: (match[1] ?? '').replace(/^\[(.*)\]$/, '$1'), port: Number(match[2]) },
  );
  return parsed.every((node) => node !== undefined)
    ? Object.freeze(parsed)
    : { problem: 'must be a comma-separated list of host:port (port 1-65535)' };
};

const boolean: Parser<boolean> = (raw) =>
  raw === 'true' ? true : raw === 'false' ? false : { problem: 'must be true or false' };

/** An https URL, or http to this machine only (a local identity provider in development). */
const secureUrl: Parser<string> = (raw) => {
  try {
    const parsed = new URL(raw);
    if (parsed.protocol === 'https:') return raw;
    if (parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname)) return raw;
    return { problem: 'must be an https:// URL (http:// only to localhost)' };
  } catch {
    return { problem: 'must be a URL' };
  }
};

const pattern =
  (regex: RegExp, description: string): Parser<string> =>
  (raw) =>
    regex.test(raw) ? raw : { problem: description };

/** A comma-separated list whose items each pass `item`; `none` is the empty list. */
const list =
  (item: (raw: string) => boolean, description: string): Parser<readonly string[]> =>
  (raw) => {
    if (raw === 'none') return Object.freeze([]);
    const items = raw.split(',').map((entry) => entry.trim());
    return items.every((entry) => entry !== '' && item(entry))
      ? Object.freeze(items)
      : { problem: `must be a comma-separated list of ${description}, or none` };
  };

const isOrigin = (raw: string): boolean => {
  if (raw === '*') return true;
  try {
    const parsed = new URL(raw);
    return ['http:', 'https:'].includes(parsed.protocol) && parsed.origin === raw;
  } catch {
    return false;
  }
};

const oneOf =
  <T extends string>(values: readonly T[]): Parser<T> =>
  (raw) =>
    (values as readonly string[]).includes(raw)
      ? (raw as T)
      : { problem: `must be one of ${values.join(', ')}` };

interface Setting<T> {
  readonly env: string;
  /** The value used when the variable is unset or empty; undefined = the setting is optional. */
  readonly fallback: string | undefined;
  /** One line for the configuration table in docs/operations.md (`pnpm docs:config`). */
  readonly description: string;
  readonly parse: Parser<T>;
}

/** Every setting. Adding one here is the whole change; then `pnpm docs:config` rewrites the docs' table. */
const settings = {
  port: { env: 'PORT', fallback: '3000', description: 'api port', parse: integer(0, 65535) },
  apiProcesses: {
    env: 'API_PROCESSES',
    fallback: '1',
    description: 'api processes sharing `PORT` (node:cluster; 1 = no cluster); one that dies is replaced',
    parse: integer(1, 64),
  },
  host: {
    env: 'HOST',
    fallback: '127.0.0.1',
    description: "bind address of the api and of the worker's metrics listener",
    parse: pattern(/^\S+$/, 'must be a host name or address'),
  },
  databaseUrl: {
    env: 'DATABASE_URL',
    fallback: 'postgres://postgres@127.0.0.1:5432/ticketing',
    description:
      'PostgreSQL; the database is created if missing and migrated at start-up. Several hosts ' +
      '(`postgres://user@h1:5432,h2:5432/db?target_session_attrs=read-write`) as libpq takes them: ' +
      'connections go to the one that accepts writes, and find the new one after a failover',
    parse: databaseUrl,
  },
  redisUrl: {
    env: 'REDIS_URL',
    fallback: 'redis://127.0.0.1:6379',
    description: 'Redis: queues, pub/sub, leases, rate limits, queue positions',
    parse: url(['redis:', 'rediss:']),
  },
  redisClusterNodes: {
    env: 'REDIS_CLUSTER_NODES',
    fallback: undefined,
    description:
      'a Redis Cluster instead (`host:port,…`, some or all of its nodes): when set, every connection is ' +
      'a cluster client and `REDIS_URL` is not used',
    parse: hostPorts,
  },
  queuePrefix: {
    env: 'QUEUE_PREFIX',
    fallback: 'ticketing',
    description: 'every Redis key and channel the system uses starts with it',
    parse: pattern(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, "_" or "-"'),
  },
  adminToken: {
    env: 'ADMIN_TOKEN',
    fallback: undefined,
    description:
      'the admin routes need it (16+ characters); unset, they answer this machine only and the api ' +
      'listens on loopback only',
    parse: pattern(/^\S{16,}$/, 'must be at least 16 characters without spaces'),
  },
  logLevel: {
    env: 'LOG_LEVEL',
    fallback: 'info',
    description: 'pino level (`fatal` … `trace`, `silent`)',
    parse: oneOf(LOG_LEVELS),
  },
  reconcileIntervalMs: {
    env: 'RECONCILE_INTERVAL_MS',
    fallback: '5000',
    description: "how often each worker's reconciler re-creates lost or failed jobs (0 disables it)",
    parse: integer(0, 3_600_000),
  },
  reconcileAfterMs: {
    env: 'RECONCILE_AFTER_MS',
    fallback: '10000',
    description: 'how long a purchase stays `queued` before the reconciler counts its job as lost',
    parse: integer(0, 3_600_000),
  },
  workerBatchSize: {
    env: 'WORKER_BATCH_SIZE',
    fallback: '200',
    description: 'jobs a round takes from one event queue (one transaction); `1` = one job per transaction',
    parse: integer(1, 5_000),
  },
  workerConcurrency: {
    env: 'WORKER_CONCURRENCY',
    // Two rounds overlap one's transaction with the other's Redis work; each further round holds its
    // events' jobs (taken and prefetched) in memory without deciding faster (docs/performance.md).
    fallback: '2',
    description: 'rounds (one transaction each, over up to 64 events) one worker process runs at once',
    parse: integer(1, 64),
  },
  workerMetricsPort: {
    env: 'WORKER_METRICS_PORT',
    fallback: '0',
    description: "port of the worker's Prometheus listener (`GET /metrics` on `HOST`); 0 = none",
    parse: integer(0, 65535),
  },
  workerLockDurationMs: {
    env: 'WORKER_LOCK_DURATION_MS',
    fallback: '30000',
    description:
      'how long a fetched job stays locked to its worker without renewal before it counts as stalled',
    parse: integer(1_000, 600_000),
  },
  workerStalledIntervalMs: {
    env: 'WORKER_STALLED_INTERVAL_MS',
    fallback: '30000',
    description: "how often each worker moves stalled jobs (a dead or frozen worker's) back to wait",
    parse: integer(500, 600_000),
  },
  workerMaxStalledCount: {
    env: 'WORKER_MAX_STALLED_COUNT',
    fallback: '5',
    description: 'stalls after which BullMQ fails a job (its purchase is still decided from Postgres)',
    parse: integer(0, 1_000),
  },
  eventLeaseMs: {
    env: 'EVENT_LEASE_MS',
    fallback: '15000',
    description: "how long a worker's claim on an event outlives the worker: the longest a crash holds it up",
    parse: integer(500, 600_000),
  },
  dbIdleInTransactionTimeoutMs: {
    env: 'DB_IDLE_IN_TRANSACTION_TIMEOUT_MS',
    fallback: '10000',
    description: "Postgres ends a session idle in a transaction this long (a frozen process's); 0 = never",
    parse: integer(0, 3_600_000),
  },
  rateLimitWindowMs: {
    env: 'RATE_LIMIT_WINDOW_MS',
    fallback: '60000',
    description: 'the window the rate limits count in',
    parse: integer(1_000, 86_400_000),
  },
  rateLimitIpMax: {
    env: 'RATE_LIMIT_IP_MAX',
    fallback: '1200',
    description: 'requests per window from one client IP, on every route (0 disables)',
    parse: integer(0, 10_000_000),
  },
  rateLimitUserMax: {
    env: 'RATE_LIMIT_USER_MAX',
    fallback: '10',
    description:
      'purchases (`POST /events/:id/purchases`, `POST /book`) per window for one buyer: the buyer ' +
      "token's `sub`, else the body's `userId` (0 disables)",
    parse: integer(0, 10_000_000),
  },
  rateLimitAllowList: {
    env: 'RATE_LIMIT_ALLOW_LIST',
    fallback: '127.0.0.1,::1,::ffff:127.0.0.1',
    description: 'client IPs never rate limited (`none` = nobody); loopback, so load tests run unthrottled',
    parse: list((raw) => isIP(raw) !== 0, 'IP addresses'),
  },
  corsOrigins: {
    env: 'CORS_ORIGINS',
    fallback: undefined,
    description:
      'comma-separated origins allowed to call from a browser (`https://shop.example`), or `*`; unset = CORS off',
    parse: list(isOrigin, 'origins (https://example.com) or *'),
  },
  trustProxyHops: {
    env: 'TRUST_PROXY_HOPS',
    fallback: '0',
    description: 'proxies in front of the api whose `X-Forwarded-For` names the client IP the limits count',
    parse: integer(0, 10),
  },
  buyerJwtSecret: {
    env: 'BUYER_JWT_SECRET',
    fallback: undefined,
    description:
      'buyer tokens signed with HS256 (32+ characters): every buyer route then needs `Authorization: ' +
      "Bearer <jwt>` and the buyer is the token's `sub`",
    // HS256 is only as strong as its key: RFC 7518 asks for at least the hash's 256 bits.
    parse: pattern(/^\S{32,}$/, 'must be at least 32 characters without spaces'),
  },
  buyerJwksUrl: {
    env: 'BUYER_JWKS_URL',
    fallback: undefined,
    description:
      "instead of a secret, an identity provider's JSON Web Key Set (https; keys cached): buyer tokens " +
      'are signed with one of its asymmetric keys',
    parse: secureUrl,
  },
  buyerJwtIssuer: {
    env: 'BUYER_JWT_ISSUER',
    fallback: undefined,
    description: 'when set, buyer tokens must carry this `iss`',
    parse: pattern(/^\S+$/, 'must not be blank'),
  },
  buyerJwtAudience: {
    env: 'BUYER_JWT_AUDIENCE',
    fallback: undefined,
    description: 'when set, buyer tokens must carry this `aud`',
    parse: pattern(/^\S+$/, 'must not be blank'),
  },
  webhookRetryBaseMs: {
    env: 'WEBHOOK_RETRY_BASE_MS',
    fallback: '5000',
    description: 'a failed webhook delivery is retried after this long, then twice as long each time',
    parse: integer(10, 3_600_000),
  },
  webhookRetryMaxDelayMs: {
    env: 'WEBHOOK_RETRY_MAX_DELAY_MS',
    fallback: '3600000',
    description: 'the longest wait between two attempts of one webhook delivery',
    parse: integer(10, 86_400_000),
  },
  webhookDisableAfterMs: {
    env: 'WEBHOOK_DISABLE_AFTER_MS',
    fallback: '86400000',
    description:
      'a webhook endpoint failing this long without a success is disabled; a message failing this long to ' +
      'one endpoint is given up there',
    parse: integer(1_000, 30 * 86_400_000),
  },
  webhookTimeoutMs: {
    env: 'WEBHOOK_TIMEOUT_MS',
    fallback: '15000',
    description: 'how long a webhook endpoint has to answer one delivery',
    parse: integer(100, 120_000),
  },
  webhookBlockPrivateNetworks: {
    env: 'WEBHOOK_BLOCK_PRIVATE_NETWORKS',
    fallback: 'false',
    description:
      'refuse webhook URLs resolving to loopback, private or link-local addresses, at registration and ' +
      'at every delivery (recommended in production)',
    parse: boolean,
  },
} satisfies Record<string, Setting<unknown>>;

type SettingValue<S> =
  S extends Setting<infer T> ? (undefined extends S['fallback'] ? T | undefined : T) : never;

/** The validated configuration: one field per setting, typed by its parser (optional ones may be undefined). */
export type Config = { readonly [K in keyof typeof settings]: SettingValue<(typeof settings)[K]> };

/** What the docs say about each setting, in declaration order. */
export const CONFIG_SETTINGS: readonly Pick<Setting<unknown>, 'env' | 'fallback' | 'description'>[] =
  Object.values(settings).map(({ env, fallback, description }) => ({ env, fallback, description }));

/** The environment variable names the system reads, for documentation and the compose-file check. */
export const CONFIG_ENV_NAMES: readonly string[] = CONFIG_SETTINGS.map((setting) => setting.env);

/** Loopback names and addresses: a server bound to one is reachable from this machine only. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost' || bare === '::1') return true;
  const ipv4 = bare.startsWith('::ffff:') ? bare.slice('::ffff:'.length) : bare;
  return isIP(ipv4) === 4 && ipv4.startsWith('127.');
}

/**
 * The api's settings: `loadConfig`'s, and the admin routes (event creation, reports, webhooks, the
 * monitor, the queue dashboard that can delete jobs) never face a network without a token. On
 * loopback they may be open, for development and local load tests.
 */
export function loadApiConfig(env: Env = process.env): Config {
  const config = loadConfig(env);
  if (config.adminToken !== undefined) return config;
  const consequence =
    'without it anyone who reaches the port could create events, read sales and delete queued jobs';
  const problems = [
    ...(isLoopbackHost(config.host)
      ? []
      : [
          `ADMIN_TOKEN must be set when the api listens on HOST=${config.host}, which other machines can ` +
            `reach: ${consequence}. Set ADMIN_TOKEN (16 characters or more), or HOST=127.0.0.1 to serve ` +
            'this machine only.',
        ]),
    ...(config.trustProxyHops === 0
      ? []
      : [
          `ADMIN_TOKEN must be set when TRUST_PROXY_HOPS=${config.trustProxyHops} says a proxy forwards ` +
            `other machines' requests: ${consequence}.`,
        ]),
  ];
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/**
 * For a service's entry point: a bad configuration ends the process with its list of problems on
 * stderr and exit code 1, without a stack trace that would bury them.
 */
export function configOrExit(load: () => Config): Config {
  try {
    return load();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

/** Validates every setting and reports all problems at once, so one restart fixes them all. */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(settings)) {
    const raw = env[setting.env];
    const text = raw === undefined || raw === '' ? setting.fallback : raw;
    if (text === undefined) {
      values[key] = undefined;
      continue;
    }
    const parsed: unknown = setting.parse(text);
    if (typeof parsed === 'object' && parsed !== null && 'problem' in parsed) {
      problems.push(`${setting.env}=${JSON.stringify(raw)} ${String(parsed.problem)}`);
    } else {
      values[key] = parsed;
    }
  }
  if (problems.length === 0) problems.push(...combinationProblems(values as unknown as Config));
  const switches = env[UNSAFE_SWITCHES_ENV];
  if (switches !== undefined && switches !== '') {
    problems.push(
      `${UNSAFE_SWITCHES_ENV}=${JSON.stringify(switches)} is for negative-control tests only: each switch ` +
        'removes a safety mechanism (a lock, a constraint), and a service never starts with one. Unset it.',
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(values as unknown as Config);
}

/** Settings that are valid one by one but not together. */
function combinationProblems(config: Config): string[] {
  const problems: string[] = [];
  if (config.buyerJwtSecret !== undefined && config.buyerJwksUrl !== undefined) {
    problems.push(
      'BUYER_JWT_SECRET and BUYER_JWKS_URL are both set: buyer tokens are verified one way, set only one',
    );
  }
  if (config.buyerJwtSecret === undefined && config.buyerJwksUrl === undefined) {
    for (const [name, value] of [
      ['BUYER_JWT_ISSUER', config.buyerJwtIssuer],
      ['BUYER_JWT_AUDIENCE', config.buyerJwtAudience],
    ] as const) {
      if (value !== undefined)
        problems.push(`${name} is set but buyer tokens are off: set BUYER_JWT_SECRET or BUYER_JWKS_URL too`);
    }
  }
  return problems;
}
