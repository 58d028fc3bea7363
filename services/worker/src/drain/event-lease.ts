import type { RedisClient } from '@ticketing/shared';
import { LuaScript } from '@ticketing/shared';

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
  constructor(
    private readonly redis: RedisClient,
    private readonly key: string,
    /** Unique to this claim (an encoded `LeaseHolder`): only its holder may extend or release it. */
    private readonly value: string,
    private readonly durationMs: number,
  ) {}

  async acquire(): Promise<boolean> {
    return (await this.redis.set(this.key, this.value, 'PX', this.durationMs, 'NX')) === 'OK';
  }

  async extend(): Promise<boolean> {
    return (await EXTEND.run(this.redis, [this.key], [this.value, this.durationMs])) === 1;
  }

  async release(): Promise<void> {
    await RELEASE.run(this.redis, [this.key], [this.value]);
  }
}
