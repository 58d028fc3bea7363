import { Gauge, type Registry } from 'prom-client';
import pg from 'pg';

/** One Postgres server a `DATABASE_URL` names. */
export interface PostgresAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * libpq's `target_session_attrs`, the ones this system can use: `any` takes the first host that
 * answers, `read-write` one that accepts writes by default, `primary` one that is not a standby. The
 * standby-seeking ones are refused: a standby is never read from.
 */
export const TARGET_SESSION_ATTRS = ['any', 'read-write', 'primary'] as const;
export type TargetSessionAttrs = (typeof TARGET_SESSION_ATTRS)[number];

/** A `DATABASE_URL` taken apart the way libpq reads one: possibly several hosts, tried in order. */
export interface PostgresUrl {
  readonly hosts: readonly PostgresAddress[];
  readonly targetSessionAttrs: TargetSessionAttrs;
  /** The database's name. */
  readonly database: string;
  /** A one-host URL for `address` (node-postgres takes one host), naming `database` when given. */
  urlFor(address: PostgresAddress, database?: string): string;
}

const DEFAULT_PORT = 5432;
const HOST_PORT = /^(\[[^\]]+\]|[^\s:[\]/]+)(?::(\d{1,5}))?$/;

export const formatAddress = (address: PostgresAddress): string =>
  `${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;

/**
 * Reads `postgres://user:password@h1:5432,h2:5432/db?target_session_attrs=read-write`. The WHATWG URL
 * parser rejects a host list, so the authority is split here and each host gets a URL of its own.
 * Throws an Error saying what is wrong (config turns it into a start-up problem).
 */
export function parseDatabaseUrl(raw: string): PostgresUrl {
  const match = /^(postgres(?:ql)?:)\/\/(?:([^@/?#]*)@)?([^/?#]*)(.*)$/s.exec(raw);
  if (match === null) throw new Error('must be a postgres:// or postgresql:// URL');
  const [, protocol = '', userInfo, hostList = '', rest = ''] = match;
  const listed = (hostList === '' ? [] : hostList.split(',')).map((entry) => {
    const parts = HOST_PORT.exec(entry.trim());
    const port = Number(parts?.[2] ?? DEFAULT_PORT);
    if (parts === null || port < 1 || port > 65535) {
      throw new Error(`has a bad host "${entry}": each host is host or host:port (port 1-65535)`);
    }
    return { host: (parts[1] ?? '').replace(/^\[(.*)\]$/, '$1'), port };
  });
  // One host (or none: a Unix socket named by ?host=) is handed to node-postgres as it was written.
  const single = listed.length <= 1;
  let template: URL;
  try {
    template = new URL(
      single ? raw : `${protocol}//${userInfo === undefined ? '' : `${userInfo}@`}hosts${rest}`,
    );
  } catch {
    throw new Error('must be a URL');
  }
  const hosts = single
    ? [
        {
          host: template.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost',
          port: Number(template.port || DEFAULT_PORT),
        },
      ]
    : listed;
  const attrs = template.searchParams.get('target_session_attrs') ?? 'any';
  if (!(TARGET_SESSION_ATTRS as readonly string[]).includes(attrs)) {
    throw new Error(
      `has target_session_attrs=${attrs}: only ${TARGET_SESSION_ATTRS.join(', ')} are supported`,
    );
  }
  // node-postgres would pass the parameter on to the server, which does not know it. (Deleting
  // re-encodes the query, so only when there is one to delete.)
  if (template.searchParams.has('target_session_attrs')) template.searchParams.delete('target_session_attrs');
  const database = decodeURIComponent(template.pathname.slice(1));
  return {
    hosts,
    targetSessionAttrs: attrs as TargetSessionAttrs,
    database,
    urlFor(address, name = database) {
      const url = new URL(template);
      if (!single) url.host = formatAddress(address);
      url.pathname = `/${encodeURIComponent(name)}`;
      return url.toString();
    },
  };
}

/** What a server says about itself: from its start-up ParameterStatus messages or a query. */
export interface SessionState {
  readonly inHotStandby: boolean;
  readonly defaultTransactionReadOnly: boolean;
}

/** Whether a session on a server in `state` is one `attrs` asks for. */
export function sessionFits(attrs: TargetSessionAttrs, state: SessionState): boolean {
  if (attrs === 'any') return true;
  if (attrs === 'primary') return !state.inHotStandby;
  return !state.inHotStandby && !state.defaultTransactionReadOnly;
}

/** No listed host takes the session: a 503 for a request (08001, as libpq's failure), a retry for a round. */
export class NoSuitableHostError extends Error {
  readonly code = '08001';
}

/**
 * Which of a URL's hosts this process connects to: the first, in the listed order, that answers and
 * fits `target_session_attrs` (libpq's rule), remembered until a connection to it fails or finds it no
 * longer fits (a failover), then looked for again. With one host there is nothing to choose.
 */
export class PostgresHostSelector {
  private chosen: PostgresAddress | undefined;
  private looking: Promise<PostgresAddress> | undefined;

  constructor(
    readonly url: PostgresUrl,
    private readonly connectTimeoutMs = 5_000,
  ) {
    if (url.hosts.length === 1) this.chosen = url.hosts[0];
  }

  /** The host in use now, if one is known (health and metrics). */
  get current(): PostgresAddress | undefined {
    return this.chosen;
  }

  /** The host new connections go to; concurrent callers share one look. */
  select(): Promise<PostgresAddress> {
    if (this.chosen !== undefined) return Promise.resolve(this.chosen);
    this.looking ??= this.look().finally(() => {
      this.looking = undefined;
    });
    return this.looking;
  }

  /** A connection to `address` failed or found it unfit: look again, unless it is the only host. */
  reject(address: PostgresAddress): void {
    const chosen = this.chosen;
    if (this.url.hosts.length > 1 && chosen?.host === address.host && chosen.port === address.port) {
      this.chosen = undefined;
    }
  }

  private async look(): Promise<PostgresAddress> {
    const problems: string[] = [];
    for (const address of this.url.hosts) {
      try {
        if (sessionFits(this.url.targetSessionAttrs, await this.probe(address))) {
          this.chosen = address;
          return address;
        }
        problems.push(
          `${formatAddress(address)}: ${this.url.targetSessionAttrs === 'primary' ? 'a standby' : 'read-only'}`,
        );
      } catch (error) {
        problems.push(
          `${formatAddress(address)}: ${error instanceof Error ? error.message || String((error as { code?: unknown }).code) : String(error)}`,
        );
      }
    }
    throw new NoSuitableHostError(
      `No Postgres host takes a ${this.url.targetSessionAttrs} session (${problems.join('; ')})`,
    );
  }

  private async probe(address: PostgresAddress): Promise<SessionState> {
    const client = new pg.Client({
      connectionString: this.url.urlFor(address),
      connectionTimeoutMillis: this.connectTimeoutMs,
    });
    client.on('error', () => {});
    await client.connect();
    try {
      const { rows } = await client.query<{ in_recovery: boolean; read_only: string }>(
        "select pg_is_in_recovery() as in_recovery, current_setting('default_transaction_read_only') as read_only",
      );
      return {
        inHotStandby: rows[0]?.in_recovery === true,
        defaultTransactionReadOnly: rows[0]?.read_only === 'on',
      };
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

/**
 * One selector per URL in the process, so every pool on the same URL (the api's and the webhook
 * deliveries', say) follows one failover, and health and metrics can say where they write.
 */
const selectors = new Map<string, PostgresHostSelector>();

export function hostSelectorFor(databaseUrl: string, connectTimeoutMs?: number): PostgresHostSelector {
  let selector = selectors.get(databaseUrl);
  if (selector === undefined) {
    selector = new PostgresHostSelector(parseDatabaseUrl(databaseUrl), connectTimeoutMs);
    selectors.set(databaseUrl, selector);
  }
  return selector;
}

/** The `host:port` this process's connections to `databaseUrl` go to now, or undefined while it looks. */
export function postgresPrimaryOf(databaseUrl: string): string | undefined {
  const current = hostSelectorFor(databaseUrl).current;
  return current === undefined ? undefined : formatAddress(current);
}

/**
 * `ticketing_postgres_host_in_use{host}` in a service's registry: 1 for the host of each `DATABASE_URL`
 * the process's connections go to now, 0 for the others it lists (the label count is the host list's).
 * After a failover the 1 moves; all 0 while the process is looking for a primary.
 */
export function postgresHostGauge(registry: Registry): Gauge<'host'> {
  return new Gauge({
    name: 'ticketing_postgres_host_in_use',
    help: "1 for the Postgres host (of DATABASE_URL's list) this process's connections go to now, 0 for the others",
    labelNames: ['host'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const selector of selectors.values()) {
        for (const address of selector.url.hosts) {
          this.set({ host: formatAddress(address) }, selector.current === address ? 1 : 0);
        }
      }
    },
  });
}
