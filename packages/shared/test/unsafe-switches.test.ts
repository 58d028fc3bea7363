import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { ProcessSystem, sharedPostgresDatabase, sharedRedisPrefix } from '@ticketing/harness';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  loadConfig,
  parseUnsafeSwitches,
  UNSAFE_SWITCH_NAMES,
  UNSAFE_SWITCHES_ENV,
  unsafeSwitches,
} from '../src/index.js';

const ROOT = new URL('../../../', import.meta.url);
/** The production bundles, as `pnpm start` runs them (built by the suite's global setup). */
const BUNDLES = Object.values(
  JSON.parse(readFileSync(new URL('scripts/services.json', ROOT), 'utf8')) as Record<
    string,
    { bundle: string }
  >,
).map(({ bundle }) => bundle);

/**
 * The bundle's own copy of unsafe-switches.ts: esbuild writes each inlined module after a comment
 * naming its source, and this one stands on its own (it imports nothing).
 */
function switchesModuleOf(bundle: string): string {
  const text = readFileSync(new URL(bundle, ROOT), 'utf8');
  const modules = text.split(/^(?=\/\/ \S+\.ts$)/m);
  const found = modules.filter((module) => module.startsWith('// packages/shared/src/unsafe-switches.ts\n'));
  expect(found, `${bundle} inlines unsafe-switches.ts once`).toHaveLength(1);
  return found[0] ?? '';
}

describe('unsafe switches', () => {
  it('when the variable names switches, then exactly those are on, and an unknown name is an error', () => {
    const switches = parseUnsafeSwitches(' no-event-lock, waitlist-skips-head ');
    expect(UNSAFE_SWITCH_NAMES.filter((name) => switches[name])).toEqual([
      'no-event-lock',
      'waitlist-skips-head',
    ]);
    expect(Object.values(parseUnsafeSwitches(undefined))).not.toContain(true);
    expect(() => parseUnsafeSwitches('no-event-lock,no-evnt-lock')).toThrow(/unknown switches no-evnt-lock/);
  });

  it('when a test sets none, then every switch is off', () => {
    expect(Object.values(unsafeSwitches)).not.toContain(true);
  });

  it('when any switch is set, then the configuration refuses to load, even under NODE_ENV=test', () => {
    for (const name of UNSAFE_SWITCH_NAMES) {
      const load = () => loadConfig({ [UNSAFE_SWITCHES_ENV]: name, NODE_ENV: 'test' });
      expect(load).toThrow(ConfigError);
      expect(load).toThrow(new RegExp(`${UNSAFE_SWITCHES_ENV}="${name}" is for negative-control tests only`));
    }
    expect(() => loadConfig({ [UNSAFE_SWITCHES_ENV]: '' })).not.toThrow();
  });

  it("when the production bundles' own switch code runs with every switch named and NODE_ENV=test, then no switch is on", () => {
    // What the bundles do without loadConfig's refusal: the NODE_ENV define (scripts/build.mjs)
    // leaves them no read of the variable, so whatever the environment says, every switch stays off.
    for (const bundle of BUNDLES) {
      const code = switchesModuleOf(bundle);
      expect(code).toContain('var unsafeSwitches = parseUnsafeSwitches(');
      expect(code).not.toContain('process.env.NODE_ENV');
      const env = { NODE_ENV: 'test', [UNSAFE_SWITCHES_ENV]: UNSAFE_SWITCH_NAMES.join(',') };
      const switches = runInNewContext(`${code}\nunsafeSwitches`, { process: { env } }) as Record<
        string,
        boolean
      >;
      expect(Object.keys(switches), bundle).toEqual([...UNSAFE_SWITCH_NAMES]);
      expect(Object.values(switches), bundle).not.toContain(true);
    }
  });

  it('when a production bundle is started with any switch, then it exits at start-up with a clear error and no stack trace', async () => {
    const postgres = await sharedPostgresDatabase();
    const redis = sharedRedisPrefix();
    const system = await ProcessSystem.create({ postgres, redis });
    try {
      // Each switch once, by the api and the worker bundles in turn (every start costs a second of CPU).
      const starts = UNSAFE_SWITCH_NAMES.map((name, index) => {
        const env = { [UNSAFE_SWITCHES_ENV]: name, NODE_ENV: 'test' };
        return index % 2 === 0
          ? { name, start: () => system.startApi(env) }
          : { name, start: async () => (await system.startWorker(env)).waitReady() };
      });
      const failures = await Promise.all(
        starts.map(({ start }) =>
          start().then(
            () => new Error('started'),
            (error: unknown) => error as Error,
          ),
        ),
      );
      for (const [index, { name }] of starts.entries()) {
        const failure = failures[index] ?? new Error('missing');
        expect(failure.message).toMatch(/exited \(1\) before it was ready/);
        expect(failure.message).toContain(
          `Invalid configuration:\n  - ${UNSAFE_SWITCHES_ENV}="${name}" is for negative-control tests only`,
        );
        expect(failure.message).not.toMatch(/\n\s+at /);
      }
      expect(system.started.map((service) => service.exit)).toEqual(
        Array(starts.length).fill({ code: 1, signal: null }),
      );
    } finally {
      await system.stop();
      await redis.destroy();
      await postgres.destroy();
    }
  }, 60_000);
});
