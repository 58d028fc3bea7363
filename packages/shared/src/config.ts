import { isIP } from 'node:net';

/**
 * The one place that reads `process.env`. Every setting is declared once here, validated at start-up
 * and frozen; the rest of the code receives a typed `Config`.
 */
export interface Config {
  readonly port: number;
  /** Api processes sharing `port` (node:cluster); 1 = a single process, no cluster. */
  readonly apiProcesses: number;
  readonly host: string;
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly queuePrefix: string;
  readonly adminToken: string | undefined;
  readonly logLevel: LogLevel;
  /** How often the reconciler re-enqueues purchases still `queued` in Postgres (0 disables it). */
  readonly reconcileIntervalMs: number;
  /** A purchase must have been queued this long before the reconciler considers its job lost. */
  readonly reconcileAfterMs: number;
  /** Jobs a worker takes from an event queue and applies in one transaction (1 = one job at a time). */
  readonly workerBatchSize: number;
  /** Drain rounds (one transaction each, over up to 64 events) one worker process runs at once. */
  readonly workerConcurrency: number;
  /** Port of the worker's Prometheus listener (`GET /metrics`) on `host`; 0 = no listener. */
  readonly workerMetricsPort: number;
  /** How long a fetched job stays locked to its worker without renewal before it counts as stalled. */
  readonly workerLockDurationMs: number;
  /** How often each queue worker looks for stalled jobs (a dead worker's) to move back to wait. */
  readonly workerStalledIntervalMs: number;
  /** How often a job may stall before BullMQ fails it (the reconciler still retries its work). */
  readonly workerMaxStalledCount: number;
  /** How long a worker's claim on an event outlives the worker if it dies while holding it. */
  readonly eventLeaseMs: number;
  /** Postgres ends a session idle inside a transaction this long (a frozen process's), releasing its locks. */
  readonly dbIdleInTransactionTimeoutMs: number;
  /** Rate-limit window; the limits below count requests per window (0 disables a limit). */
  readonly rateLimitWindowMs: number;
  /** Requests per window from one client IP, on every route. */
  readonly rateLimitIpMax: number;
  /** Purchase requests per window for one `userId`, whatever IP they come from. */
  readonly rateLimitUserMax: number;
  /** Client IPs never rate limited (loopback by default, so load tests and benchmarks run unthrottled). */
  readonly rateLimitAllowList: readonly string[];
  /** Origins allowed to call the API from a browser; CORS is off when unset. */
  readonly corsOrigins: readonly string[] | undefined;
  /** Proxy hops in front of the api whose X-Forwarded-For is trusted for the client IP (0 = none). */
  readonly trustProxyHops: number;
  /**
   * Buyer tokens signed with HS256 by whoever issues them (a shop's back end): with this or
   * `buyerJwksUrl` set, every buyer route needs `Authorization: Bearer <jwt>` and the buyer is its `sub`.
   */
  readonly buyerJwtSecret: string | undefined;
  /** An identity provider's JSON Web Key Set: buyer tokens are signed with one of its (asymmetric) keys. */
  readonly buyerJwksUrl: string | undefined;
  /** Buyer tokens must carry this `iss`, when set. */
  readonly buyerJwtIssuer: string | undefined;
  /** Buyer tokens must carry this `aud`, when set. */
  readonly buyerJwtAudience: string | undefined;
  /** A failed webhook delivery is retried after this long, then after twice as long each time. */
  readonly webhookRetryBaseMs: number;
  /** The longest wait between two attempts of one delivery, however often it failed. */
  readonly webhookRetryMaxDelayMs: number;
  /**
   * An endpoint failing this long without a success is disabled; a message failing this long to one
   * endpoint is given up there.
   */
  readonly webhookDisableAfterMs: number;
  /** How long a webhook endpoint has to answer one delivery. */
  readonly webhookTimeoutMs: number;
  /** Refuse webhook URLs that resolve to loopback, private or other non-public addresses (SSRF). */
  readonly webhookBlockPrivateNetworks: boolean;
}

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

const boolean: Parser<boolean> = (raw) =>
  raw === 'true' ? true : raw === 'false' ? false : { problem: 'must be true or false' };

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

/** Each setting: its environment name, its default (undefined = optional) and its parser. */
const settings = {
  port: { env: 'PORT', fallback: '3000', parse: integer(0, 65535) },
  apiProcesses: { env: 'API_PROCESSES', fallback: '1', parse: integer(1, 64) },
  host: { env: 'HOST', fallback: '127.0.0.1', parse: pattern(/^\S+$/, 'must be a host name or address') },
  databaseUrl: {
    env: 'DATABASE_URL',
    fallback: 'postgres://postgres@127.0.0.1:5432/ticketing',
    parse: url(['postgres:', 'postgresql:']),
  },
  redisUrl: { env: 'REDIS_URL', fallback: 'redis://127.0.0.1:6379', parse: url(['redis:', 'rediss:']) },
  queuePrefix: {
    env: 'QUEUE_PREFIX',
    fallback: 'ticketing',
    parse: pattern(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, "_" or "-"'),
  },
  adminToken: {
    env: 'ADMIN_TOKEN',
    fallback: undefined,
    parse: pattern(/^\S{16,}$/, 'must be at least 16 characters without spaces'),
  },
  logLevel: { env: 'LOG_LEVEL', fallback: 'info', parse: oneOf(LOG_LEVELS) },
  reconcileIntervalMs: { env: 'RECONCILE_INTERVAL_MS', fallback: '5000', parse: integer(0, 3_600_000) },
  reconcileAfterMs: { env: 'RECONCILE_AFTER_MS', fallback: '10000', parse: integer(0, 3_600_000) },
  workerBatchSize: { env: 'WORKER_BATCH_SIZE', fallback: '200', parse: integer(1, 5_000) },
  workerConcurrency: { env: 'WORKER_CONCURRENCY', fallback: '4', parse: integer(1, 64) },
  workerMetricsPort: { env: 'WORKER_METRICS_PORT', fallback: '0', parse: integer(0, 65535) },
  workerLockDurationMs: { env: 'WORKER_LOCK_DURATION_MS', fallback: '30000', parse: integer(1_000, 600_000) },
  workerStalledIntervalMs: {
    env: 'WORKER_STALLED_INTERVAL_MS',
    fallback: '30000',
    parse: integer(500, 600_000),
  },
  workerMaxStalledCount: { env: 'WORKER_MAX_STALLED_COUNT', fallback: '5', parse: integer(0, 1_000) },
  eventLeaseMs: { env: 'EVENT_LEASE_MS', fallback: '15000', parse: integer(500, 600_000) },
  dbIdleInTransactionTimeoutMs: {
    env: 'DB_IDLE_IN_TRANSACTION_TIMEOUT_MS',
    fallback: '10000',
    parse: integer(0, 3_600_000),
  },
  rateLimitWindowMs: { env: 'RATE_LIMIT_WINDOW_MS', fallback: '60000', parse: integer(1_000, 86_400_000) },
  rateLimitIpMax: { env: 'RATE_LIMIT_IP_MAX', fallback: '1200', parse: integer(0, 10_000_000) },
  rateLimitUserMax: { env: 'RATE_LIMIT_USER_MAX', fallback: '10', parse: integer(0, 10_000_000) },
  rateLimitAllowList: {
    env: 'RATE_LIMIT_ALLOW_LIST',
    fallback: '127.0.0.1,::1,::ffff:127.0.0.1',
    parse: list((raw) => isIP(raw) !== 0, 'IP addresses'),
  },
  corsOrigins: {
    env: 'CORS_ORIGINS',
    fallback: undefined,
    parse: list(isOrigin, 'origins (https://example.com) or *'),
  },
  trustProxyHops: { env: 'TRUST_PROXY_HOPS', fallback: '0', parse: integer(0, 10) },
  buyerJwtSecret: {
    env: 'BUYER_JWT_SECRET',
    fallback: undefined,
    // HS256 is only as strong as its key: RFC 7518 asks for at least the hash's 256 bits.
    parse: pattern(/^\S{32,}$/, 'must be at least 32 characters without spaces'),
  },
  buyerJwksUrl: { env: 'BUYER_JWKS_URL', fallback: undefined, parse: secureUrl },
  buyerJwtIssuer: {
    env: 'BUYER_JWT_ISSUER',
    fallback: undefined,
    parse: pattern(/^\S+$/, 'must not be blank'),
  },
  buyerJwtAudience: {
    env: 'BUYER_JWT_AUDIENCE',
    fallback: undefined,
    parse: pattern(/^\S+$/, 'must not be blank'),
  },
  webhookRetryBaseMs: { env: 'WEBHOOK_RETRY_BASE_MS', fallback: '5000', parse: integer(10, 3_600_000) },
  webhookRetryMaxDelayMs: {
    env: 'WEBHOOK_RETRY_MAX_DELAY_MS',
    fallback: '3600000',
    parse: integer(10, 86_400_000),
  },
  webhookDisableAfterMs: {
    env: 'WEBHOOK_DISABLE_AFTER_MS',
    fallback: '86400000',
    parse: integer(1_000, 30 * 86_400_000),
  },
  webhookTimeoutMs: { env: 'WEBHOOK_TIMEOUT_MS', fallback: '15000', parse: integer(100, 120_000) },
  webhookBlockPrivateNetworks: { env: 'WEBHOOK_BLOCK_PRIVATE_NETWORKS', fallback: 'false', parse: boolean },
} satisfies Record<keyof Config, { env: string; fallback: string | undefined; parse: Parser<unknown> }>;

/** The environment variable names the system reads, for documentation and the compose-file check. */
export const CONFIG_ENV_NAMES: readonly string[] = Object.values(settings).map((setting) => setting.env);

/** Loopback names and addresses: a server bound to one is reachable from this machine only. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost' || bare === '::1') return true;
  const ipv4 = bare.startsWith('::ffff:') ? bare.slice('::ffff:'.length) : bare;
  return isIP(ipv4) === 4 && ipv4.startsWith('127.');
}

/**
 * The api's settings: `loadConfig`'s, and the admin routes (event creation, reports, the monitor, the
 * queue dashboard that can delete jobs) never face a network without a token. On loopback they may be
 * open, for development and local load tests.
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
