import { parseArgs } from 'node:util';

/**
 * An operation on every event's sale during the run (docs/running-a-sale.md), done once this share of
 * the purchases is accepted (or the load is over): a resize to `totalTickets`, a pause resumed
 * `forMs` later, a close, or a cancellation of the events.
 */
export type SaleOperationPlan = { readonly at: number } & (
  | { readonly kind: 'resize'; readonly totalTickets: number }
  | { readonly kind: 'pause'; readonly forMs: number }
  | { readonly kind: 'close' }
  | { readonly kind: 'cancel' }
);

export interface LoadOptions {
  readonly url: string;
  readonly events: number;
  readonly tickets: number;
  readonly purchases: number;
  /** Closed loop: this many buyers, each submitting and following one purchase at a time. */
  readonly concurrency: number;
  /** Open loop: purchases started per second, whatever the system's pace (0 = closed loop). */
  readonly rate: number;
  readonly quantity: { readonly min: number; readonly max: number };
  readonly cancelRatio: number;
  /** Events hold tickets this long for payment (0: confirmed at once). */
  readonly holdSeconds: number;
  /** Of the purchases held for payment, the share the buyers pay for (confirm); the others expire. */
  readonly payRatio: number;
  readonly priceCents: number;
  readonly adminToken: string | undefined;
  readonly json: string | undefined;
  /** Write a self-contained HTML report of the run here. */
  readonly report?: string | undefined;
  /** The target is not this machine, and that is meant (a staging deployment). */
  readonly allowRemote?: boolean;
  readonly quiet: boolean;
  /** Open every connection of the pool before the clock starts, as a load balancer in front holds them. */
  readonly warmConnections: boolean;
  /**
   * Seconds each submit offers to wait for the decision (`Prefer: wait=N`, 0 = never): a purchase
   * decided within them is answered in the one exchange, without following it.
   */
  readonly preferWait: number;
  /** Only submit: accept every purchase without following any (the accept half of a backlog run). */
  readonly acceptOnly: boolean;
  /** Read every purchase back and audit the books (off only for servers that keep none). */
  readonly audit: boolean;
  /**
   * On-sale mode (docs/on-sale.md): events start selling this many seconds after they are created
   * (0: on sale at once). The first `earlyRatio` of the purchases arrive before the start, half as
   * fast as they can and half paced over the pre-queue, the rest after it; the audit checks the draw.
   */
  readonly saleStartIn: number;
  readonly earlyRatio: number;
  /**
   * On-sale mode: how long after the start pre-queued purchases are followed before they are left to
   * the audit as undecided (default 120 s; tests of a broken draw set less). Not a flag.
   */
  readonly prequeuePatienceMs?: number;
  /** Operations on the sales during the run, in the order they come (`--resize-at` and the like). */
  readonly saleOperations: readonly SaleOperationPlan[];
}

/** RFC 7240 leaves the bound to the server; this api waits up to 30 s. */
export const MAX_PREFER_WAIT_SECONDS = 30;

export const USAGE = `Usage: pnpm loadtest -- [flags]
  --url URL            api origin: scheme://host:port    default http://127.0.0.1:3000
  --allow-remote       allow a --url that is not this machine (nobody loads a host by a typo)
  --events N           events to create                  default 1
  --tickets N          tickets per event                 default 1000
  --purchases N        purchases in all                  default 5000
  --concurrency C      closed loop: concurrent buyers    default 64
  --rate R             open loop: purchases per second   (overrides --concurrency pacing)
  --quantity Q|A-B     tickets per purchase              default 1
  --cancel-ratio F     share of confirmed purchases then cancelled, 0..1   default 0
  --hold-seconds N     events hold tickets N s for payment, 0..3600 (0: confirmed at once)   default 0
  --pay-ratio F        share of held purchases the buyers pay for, 0..1 (the rest expire)   default 1
  --price-cents N      ticket price                      default 1000
  --admin-token T      bearer token for event creation
  --json FILE          write the result as JSON (with its per-second time series)
  --report FILE.html   write a self-contained HTML report: charts of the run, outcomes, errors, audit
  --warm-connections   open every connection before the clock starts (as a load balancer holds them)
  --prefer-wait N      send "Prefer: wait=N" (seconds, at most 30): one exchange when decided by then
  --accept-only        submit only, follow nothing (decide the backlog later)
  --no-audit           skip reading the purchases back and auditing the books
  --sale-start-in S    on-sale mode: events start selling S s after creation, 1..3600; buyers come
                       before the start (half as fast as they can, half paced) and after it, and the
                       audit checks the draw (docs/on-sale.md)
  --early-ratio F      on-sale mode: share of the purchases made before the start, 0..1   default 0.5
  --resize-at F:N      once a share F (0..1) of the purchases is accepted, change every event's total
                       to N tickets (PATCH /events/:id); may be given more than once
  --pause-at F:MS      once F is accepted, pause every event's sale and resume it MS ms later
  --close-at F         once F is accepted, close every event's sale (later purchases: 409 sale_ended)
  --cancel-event-at F  once F is accepted, pause, read the books, and cancel every event (later
                       purchases: 409 event_cancelled); the audit holds the refund to what was sold
                       (sale operations need the admin routes: --admin-token on a remote target;
                       docs/running-a-sale.md)
  --quiet              no live progress line`;

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

function wholeNumber(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new Error(
      max === Number.MAX_SAFE_INTEGER
        ? `--${name} must be a whole number >= ${min}`
        : `--${name} must be a whole number from ${min} to ${max}`,
    );
  }
  return Number(raw);
}

/** Parses the command line; a `--` left in by `pnpm loadtest -- …` is ignored. */
export function parseOptions(argv: readonly string[]): LoadOptions {
  const { values } = parseArgs({
    args: argv.filter((arg) => arg !== '--'),
    strict: true,
    options: {
      url: { type: 'string', default: 'http://127.0.0.1:3000' },
      events: { type: 'string' },
      tickets: { type: 'string' },
      purchases: { type: 'string' },
      concurrency: { type: 'string' },
      rate: { type: 'string' },
      quantity: { type: 'string' },
      'cancel-ratio': { type: 'string' },
      'hold-seconds': { type: 'string' },
      'pay-ratio': { type: 'string' },
      'price-cents': { type: 'string' },
      'admin-token': { type: 'string' },
      json: { type: 'string' },
      report: { type: 'string' },
      'allow-remote': { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      'warm-connections': { type: 'boolean', default: false },
      'prefer-wait': { type: 'string' },
      'accept-only': { type: 'boolean', default: false },
      'no-audit': { type: 'boolean', default: false },
      'sale-start-in': { type: 'string' },
      'early-ratio': { type: 'string' },
      'resize-at': { type: 'string', multiple: true },
      'pause-at': { type: 'string' },
      'close-at': { type: 'string' },
      'cancel-event-at': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) throw new Error(USAGE);

  let url: URL;
  try {
    url = new URL(values.url);
  } catch {
    throw new Error(`--url must be a URL such as http://127.0.0.1:3000, not ${values.url}`);
  }
  if (!['http:', 'https:'].includes(url.protocol)) throw new Error('--url must be http:// or https://');
  // Requests go to the root of the API: a path would be silently dropped.
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '')
    throw new Error(`--url must be the API's origin (scheme, host, port) without a path, not ${values.url}`);
  const remote = !LOOPBACK.has(url.hostname) && !url.hostname.startsWith('127.');
  if (remote && !values['allow-remote'])
    throw new Error(
      `--url ${url.origin} is not this machine: add --allow-remote to send load to it (and be sure it is yours)`,
    );
  const quantityMatch = /^(\d+)(?:-(\d+))?$/.exec(values.quantity ?? '1');
  const min = Number(quantityMatch?.[1] ?? NaN);
  const max = Number(quantityMatch?.[2] ?? quantityMatch?.[1] ?? NaN);
  if (!(min >= 1 && max >= min)) throw new Error('--quantity must be N or A-B with 1 <= A <= B');
  const cancelRatio = Number(values['cancel-ratio'] ?? '0');
  if (!(cancelRatio >= 0 && cancelRatio <= 1)) throw new Error('--cancel-ratio must be between 0 and 1');
  const payRatio = Number(values['pay-ratio'] ?? '1');
  if (!(payRatio >= 0 && payRatio <= 1)) throw new Error('--pay-ratio must be between 0 and 1');
  const holdSeconds = wholeNumber('hold-seconds', values['hold-seconds'], 0, 0);
  if (holdSeconds > 3600) throw new Error('--hold-seconds must be at most 3600');
  const saleStartIn = wholeNumber('sale-start-in', values['sale-start-in'], 0, 1, 3600);
  const earlyRatio = Number(values['early-ratio'] ?? '0.5');
  if (!(earlyRatio >= 0 && earlyRatio <= 1)) throw new Error('--early-ratio must be between 0 and 1');
  if (values['early-ratio'] !== undefined && saleStartIn === 0)
    throw new Error('--early-ratio needs --sale-start-in');
  // The on-sale audit replays the decisions over the draw: cancellations, holds running out and
  // unread outcomes would change them after the fact.
  if (saleStartIn > 0)
    for (const [flag, set] of [
      ['--cancel-ratio', cancelRatio > 0],
      ['--hold-seconds', holdSeconds > 0],
      ['--accept-only', values['accept-only']],
      ['--no-audit', values['no-audit']],
    ] as const)
      if (set) throw new Error(`--sale-start-in does not combine with ${flag}`);

  const saleOperations = parseSaleOperations(values);
  if (saleOperations.length > 0) {
    // The on-sale audit replays the draw on the created total; the audit is the operations' point.
    const ending = saleOperations.some((operation) => operation.kind !== 'pause');
    for (const [flag, set] of [
      ['--sale-start-in', saleStartIn > 0 && ending],
      ['--accept-only', values['accept-only']],
      ['--no-audit', values['no-audit']],
    ] as const)
      if (set) throw new Error(`the sale operations do not combine with ${flag}`);
  }

  return {
    url: url.origin,
    events: wholeNumber('events', values.events, 1, 1),
    tickets: wholeNumber('tickets', values.tickets, 1000, 1),
    purchases: wholeNumber('purchases', values.purchases, 5000, 1),
    concurrency: wholeNumber('concurrency', values.concurrency, 64, 1),
    rate: wholeNumber('rate', values.rate, 0, 0),
    quantity: { min, max },
    cancelRatio,
    holdSeconds,
    payRatio,
    priceCents: wholeNumber('price-cents', values['price-cents'], 1000, 0),
    adminToken: values['admin-token'],
    json: values.json,
    report: values.report,
    allowRemote: values['allow-remote'],
    quiet: values.quiet,
    warmConnections: values['warm-connections'],
    preferWait: wholeNumber('prefer-wait', values['prefer-wait'], 0, 0, MAX_PREFER_WAIT_SECONDS),
    acceptOnly: values['accept-only'],
    audit: !values['no-audit'],
    saleStartIn,
    earlyRatio,
    saleOperations,
  };
}

/** A share of the purchases, as the operations' flags take it: more than 0, at most 1. */
function share(flag: string, raw: string): number {
  const at = Number(raw);
  if (!(raw.trim() !== '' && at > 0 && at <= 1))
    throw new Error(`${flag} takes a share of the purchases, 0 < F <= 1, not ${raw}`);
  return at;
}

function parseSaleOperations(values: {
  'resize-at'?: string[];
  'pause-at'?: string;
  'close-at'?: string;
  'cancel-event-at'?: string;
}): SaleOperationPlan[] {
  const operations: SaleOperationPlan[] = [];
  for (const raw of values['resize-at'] ?? []) {
    const [at = '', total = ''] = raw.split(':');
    if (!/^\d+$/.test(total) || Number(total) < 1)
      throw new Error(`--resize-at takes F:N, a share and a total of at least 1 ticket, not ${raw}`);
    operations.push({ at: share('--resize-at', at), kind: 'resize', totalTickets: Number(total) });
  }
  if (values['pause-at'] !== undefined) {
    const [at = '', forMs = ''] = values['pause-at'].split(':');
    if (!/^\d+$/.test(forMs) || Number(forMs) < 1 || Number(forMs) > 600_000)
      throw new Error(
        `--pause-at takes F:MS, a share and a pause of 1 to 600000 ms, not ${values['pause-at']}`,
      );
    operations.push({ at: share('--pause-at', at), kind: 'pause', forMs: Number(forMs) });
  }
  if (values['close-at'] !== undefined && values['cancel-event-at'] !== undefined)
    throw new Error('--close-at and --cancel-event-at end the sale both: give one');
  if (values['close-at'] !== undefined)
    operations.push({ at: share('--close-at', values['close-at']), kind: 'close' });
  if (values['cancel-event-at'] !== undefined)
    operations.push({ at: share('--cancel-event-at', values['cancel-event-at']), kind: 'cancel' });
  const end = operations.find((operation) => operation.kind === 'close' || operation.kind === 'cancel');
  if (
    end !== undefined &&
    operations.some((operation) => operation.kind !== end.kind && operation.at >= end.at)
  )
    throw new Error(
      `nothing can be done to a sale after it ends: every other operation must come before --${end.kind === 'close' ? 'close-at' : 'cancel-event-at'}`,
    );
  // Stable: operations at the same share keep the order of the flags above.
  return operations.sort((a, b) => a.at - b.at);
}

/** The command line's defaults with some options set: for callers that run a load in code (tests, bench). */
export function loadOptions(options: Partial<LoadOptions> & Pick<LoadOptions, 'url'>): LoadOptions {
  return { ...parseOptions(['--url', options.url, '--quiet']), ...options };
}
