// Test-only switches that each remove one mechanism a guarantee rests on, so that a negative control
// can show the audit notices when it is gone (docs/controls.md). They are read once, when this module
// loads, and only under vitest (NODE_ENV=test): the production bundles compile NODE_ENV to
// "production" (scripts/build.mjs), and `loadConfig` refuses to start a service with the variable set
// at all. This is the one other module that reads `process.env`: the switches must reach the hot paths
// without a Config threaded through every repository, and each costs one property read there.

/** The environment variable: a comma-separated list of switch names. */
export const UNSAFE_SWITCHES_ENV = 'TICKETING_UNSAFE_SWITCHES';

export const UNSAFE_SWITCH_NAMES = [
  /** A round reads its events without the row lock (and dawdles after, so rounds overlap). */
  'no-event-lock',
  /** Tickets are added to `sold`/`held` without the `sold + held + n <= total` condition. */
  'unconditional-allotment',
  /** The api and the expiry sweep number requests without the event's accepting lock. */
  'no-accepting-lock',
  /** The worker's status changes no longer check the status a purchase must still have. */
  'any-prior-status',
  /** The api's insert no longer skips a purchase whose idempotency key the event already has. */
  'no-idempotency-conflict',
  /** Promotion from the waiting list starts at the second place in line instead of the first. */
  'waitlist-skips-head',
  /** A shop's confirmation of a hold no longer checks `holdExpiresAt` against the database's clock. */
  'confirm-past-expiry',
  /** With buyer tokens on, a route on one purchase no longer checks that it is the caller's. */
  'any-buyer',
  /** The workers' scan of Postgres for events with pending work finds none. */
  'no-pending-scan',
  /** At the sale start the pre-queue is decided in arrival order (`seq`) instead of by draw key. */
  'prequeue-arrival-order',
  /**
   * Rounds no longer check the sale start against Postgres's clock, and the api gives pre-queued
   * purchases jobs (as a design leaning on its jobs would): the pre-queue is decided early.
   */
  'decide-before-start',
  /** A change of an event's total is carried out when it is asked for, not at its place in the queue. */
  'resize-at-once',
] as const;

export type UnsafeSwitchName = (typeof UNSAFE_SWITCH_NAMES)[number];
export type UnsafeSwitches = Readonly<Record<UnsafeSwitchName, boolean>>;

/** Parses the variable's value; an unknown name is an error, so a typo cannot make a control pass. */
export function parseUnsafeSwitches(raw: string | undefined): UnsafeSwitches {
  const names = (raw ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const unknown = names.filter((name) => !(UNSAFE_SWITCH_NAMES as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`${UNSAFE_SWITCHES_ENV}: unknown switches ${unknown.join(', ')}`);
  return Object.freeze(
    Object.fromEntries(UNSAFE_SWITCH_NAMES.map((name) => [name, names.includes(name)])) as Record<
      UnsafeSwitchName,
      boolean
    >,
  );
}

/** The switches this process runs with: all off outside tests. */
export const unsafeSwitches: UnsafeSwitches = parseUnsafeSwitches(
  process.env.NODE_ENV === 'test' ? process.env[UNSAFE_SWITCHES_ENV] : undefined,
);
