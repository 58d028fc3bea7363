import { createHash } from 'node:crypto';
import type { RedisClient } from './client.js';

/**
 * A Lua script sent by its SHA1 (EVALSHA), its source only when Redis does not have it yet (after a
 * restart or SCRIPT FLUSH). EVAL would send and hash the whole source with every call, and these run
 * for every event of every round. (ioredis's defineCommand does the same, but only on connections
 * it was called on; this works on any.) On a Redis Cluster every key of one call must hash to one
 * slot: the scripts here touch only keys of one event, which share its hash tag.
 */
export class LuaScript {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(
    redis: RedisClient,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}
