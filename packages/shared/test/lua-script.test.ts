import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { LuaScript } from '../src/redis/lua-script.js';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
afterAll(() => redis.disconnect());

describe('Lua scripts sent by hash', () => {
  it('when Redis has not seen a script yet, then it is sent once and runs by hash after', async () => {
    const key = `lua-script-test:${process.pid}:${Date.now()}`;
    const script = new LuaScript(`return redis.call('incrby', KEYS[1], ARGV[1]) .. '${key}'`);
    expect(await script.run(redis, [key], [2])).toBe(`2${key}`);
    expect(await script.run(redis, [key], [3])).toBe(`5${key}`);
    await redis.del(key);
  });
});
