import { LuaScript, type RedisClient } from '@ticketing/shared';

// Compare-and-act scripts: a lease is only extended or released by the process that holds it.
const EXTEND = new LuaScript(
  `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`,
);
const RELEASE = new LuaScript(
  `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`,
);

/**
 * A time-limited claim on one event's queue, so that of several worker processes only one drains an
 * event at a time. It expires on its own if its holder dies. Correctness never rests on it: decisions
 * are made under the event's row lock in Postgres; the lease only keeps workers from contending.
 */
export class EventLease {
  /** When it was last taken or extended (this process's monotonic clock). */
  private renewedAt = 0;

  constructor(
    private readonly redis: RedisClient,
    private readonly key: string,
    /** Unique to this claim (an encoded `LeaseHolder`): only its holder may extend or release it. */
    private readonly value: string,
    private readonly durationMs: number,
  ) {}

  async acquire(): Promise<boolean> {
    const renewedAt = performance.now();
    const taken = (await this.redis.set(this.key, this.value, 'PX', this.durationMs, 'NX')) === 'OK';
    if (taken) this.renewedAt = renewedAt;
    return taken;
  }

  async extend(): Promise<boolean> {
    const renewedAt = performance.now();
    const extended = (await EXTEND.run(this.redis, [this.key], [this.value, this.durationMs])) === 1;
    if (extended) this.renewedAt = renewedAt;
    return extended;
  }

  /**
   * Extends the lease once a third of it has run out, else keeps it as it is: a hot event's rounds
   * follow each other every few milliseconds, and a Redis round trip before each would put Redis back
   * in series with Postgres. A process that was frozen finds its lease due, and learns it lost it.
   */
  async extendIfDue(): Promise<boolean> {
    if (performance.now() - this.renewedAt < this.durationMs / 3) return true;
    return this.extend();
  }

  async release(): Promise<void> {
    await RELEASE.run(this.redis, [this.key], [this.value]);
  }
}
