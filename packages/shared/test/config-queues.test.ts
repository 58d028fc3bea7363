import { describe, expect, it } from 'vitest';
import { ConfigError, isLoopbackHost, loadApiConfig, loadConfig } from '../src/config.js';
import {
  encodePendingEvents,
  encodeWorkInPostgres,
  eventIdOfQueue,
  eventQueueName,
  jobIdFor,
  parseAnnouncement,
  parseJob,
} from '../src/queue/queues.js';

const EVENT = '3f2b8c1e-7a4d-4e2f-9b1a-0c5d6e7f8a9b';
const PURCHASE = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';

describe('loadApiConfig', () => {
  it('when the api would listen beyond loopback without ADMIN_TOKEN, then it refuses, saying why', () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.20', 'api.internal']) {
      expect(() => loadApiConfig({ HOST: host }), host).toThrow(
        new RegExp(`ADMIN_TOKEN must be set when the api listens on HOST=${host.replace(/\./g, '\\.')}`),
      );
    }
    expect(() => loadApiConfig({ TRUST_PROXY_HOPS: '1' })).toThrow(
      /ADMIN_TOKEN must be set when TRUST_PROXY_HOPS=1/,
    );
    expect(loadApiConfig({ HOST: '0.0.0.0', ADMIN_TOKEN: 'a-long-enough-token' }).host).toBe('0.0.0.0');
  });

  it('when the api listens on loopback without ADMIN_TOKEN, then it starts (development)', () => {
    for (const host of ['127.0.0.1', 'localhost', '::1', '[::1]', '127.0.0.2']) {
      expect(loadApiConfig({ HOST: host }).adminToken, host).toBeUndefined();
    }
    expect(isLoopbackHost('::ffff:127.0.0.1')).toBe(true);
    expect(isLoopbackHost('localhost.evil.example')).toBe(false);
    expect(isLoopbackHost('127.0.0.1.nip.io')).toBe(false);
  });
});

describe('buyer token settings', () => {
  const SECRET = 'x'.repeat(32);
  it('when a secret or a key set is given, then buyer tokens are on with optional issuer and audience', () => {
    expect(
      loadConfig({
        BUYER_JWT_SECRET: SECRET,
        BUYER_JWT_ISSUER: 'https://shop.example',
        BUYER_JWT_AUDIENCE: 'tickets',
      }),
    ).toMatchObject({
      buyerJwtSecret: SECRET,
      buyerJwtIssuer: 'https://shop.example',
      buyerJwtAudience: 'tickets',
    });
    expect(loadConfig({ BUYER_JWKS_URL: 'https://idp.example/.well-known/jwks.json' }).buyerJwksUrl).toBe(
      'https://idp.example/.well-known/jwks.json',
    );
    expect(loadConfig({})).toMatchObject({ buyerJwtSecret: undefined, buyerJwksUrl: undefined });
  });

  it('when the settings are weak or contradict each other, then start-up fails naming them', () => {
    expect(() => loadConfig({ BUYER_JWT_SECRET: 'x'.repeat(31) })).toThrow(
      /BUYER_JWT_SECRET.*at least 32 characters/,
    );
    expect(() =>
      loadConfig({ BUYER_JWT_SECRET: SECRET, BUYER_JWKS_URL: 'https://idp.example/jwks.json' }),
    ).toThrow(/BUYER_JWT_SECRET and BUYER_JWKS_URL are both set/);
    expect(() => loadConfig({ BUYER_JWT_AUDIENCE: 'tickets' })).toThrow(
      /BUYER_JWT_AUDIENCE is set but buyer tokens are off/,
    );
    // Keys over plain http could be swapped on the way; only a local identity provider may use it.
    expect(() => loadConfig({ BUYER_JWKS_URL: 'http://idp.example/jwks.json' })).toThrow(
      /BUYER_JWKS_URL.*https/,
    );
    expect(loadConfig({ BUYER_JWKS_URL: 'http://127.0.0.1:8080/jwks.json' }).buyerJwksUrl).toContain(
      '127.0.0.1',
    );
  });
});

describe('loadConfig', () => {
  it('when nothing is set, then the documented defaults apply', () => {
    expect(loadConfig({})).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/ticketing',
      redisUrl: 'redis://127.0.0.1:6379',
      queuePrefix: 'ticketing',
      adminToken: undefined,
      logLevel: 'info',
      workerMetricsPort: 0,
    });
  });

  it('when values are set, then they are parsed and the result is frozen', () => {
    const config = loadConfig({ PORT: '8080', ADMIN_TOKEN: 'a-long-enough-token', LOG_LEVEL: 'debug' });
    expect(config).toMatchObject({ port: 8080, adminToken: 'a-long-enough-token', logLevel: 'debug' });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('when the reliability and abuse settings are unset, then loopback is unthrottled and CORS is off', () => {
    expect(loadConfig({})).toMatchObject({
      rateLimitAllowList: ['127.0.0.1', '::1', '::ffff:127.0.0.1'],
      rateLimitIpMax: 1200,
      rateLimitUserMax: 10,
      corsOrigins: undefined,
      workerLockDurationMs: 30_000,
      eventLeaseMs: 15_000,
    });
  });

  it('when lists are given, then each item is checked and none means empty', () => {
    expect(
      loadConfig({
        RATE_LIMIT_ALLOW_LIST: 'none',
        CORS_ORIGINS: 'https://shop.example, http://localhost:5173',
      }),
    ).toMatchObject({
      rateLimitAllowList: [],
      corsOrigins: ['https://shop.example', 'http://localhost:5173'],
    });
    expect(() => loadConfig({ RATE_LIMIT_ALLOW_LIST: '10.0.0.1,not-an-ip' })).toThrow(
      /RATE_LIMIT_ALLOW_LIST/,
    );
    expect(() => loadConfig({ CORS_ORIGINS: 'https://shop.example/path' })).toThrow(/CORS_ORIGINS/);
  });

  it('when REDIS_CLUSTER_NODES is set, then it is a list of host and port; unset, the one Redis is used', () => {
    expect(loadConfig({}).redisClusterNodes).toBeUndefined();
    expect(
      loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis-2.internal:7001,[::1]:7002' })
        .redisClusterNodes,
    ).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: 'redis-2.internal', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
    for (const bad of [
      '10.0.0.1',
      'redis://10.0.0.1:7000',
      '10.0.0.1:0',
      '10.0.0.1:70000',
      'a:1,,b:2',
      '::1:7000',
    ])
      expect(() => loadConfig({ REDIS_CLUSTER_NODES: bad }), bad).toThrow(/REDIS_CLUSTER_NODES.*host:port/);
  });

  it('when several values are bad, then one error lists every bad key', () => {
    const attempt = () =>
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', QUEUE_PREFIX: 'has space', LOG_LEVEL: 'loud' });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      const problems = (error as ConfigError).problems.join('\n');
      for (const key of ['PORT', 'DATABASE_URL', 'QUEUE_PREFIX', 'LOG_LEVEL'])
        expect(problems).toContain(key);
    }
  });
});

describe('queue naming and job payloads', () => {
  it('when an event queue is named, then the event id is a Redis hash tag and can be read back', () => {
    const name = eventQueueName(EVENT);
    expect(name).toBe(`event-{${EVENT}}`);
    expect(eventIdOfQueue(name)).toBe(EVENT);
    expect(eventIdOfQueue('something-else')).toBeUndefined();
  });

  it('when a payload is well formed, then it parses; anything else is refused', () => {
    expect(parseJob({ kind: 'purchase', eventId: EVENT, purchaseId: PURCHASE, seq: 7 })).toEqual({
      kind: 'purchase',
      eventId: EVENT,
      purchaseId: PURCHASE,
      seq: 7,
    });
    expect(parseJob({ kind: 'cancel', eventId: EVENT, purchaseId: PURCHASE, seq: 7 })).toBeDefined();
    expect(parseJob({ kind: 'refund', eventId: EVENT, purchaseId: PURCHASE, seq: 7 })).toBeUndefined();
    expect(parseJob({ kind: 'purchase', eventId: 'nope', purchaseId: PURCHASE, seq: 7 })).toBeUndefined();
    expect(
      parseJob({ kind: 'purchase', eventId: EVENT, purchaseId: PURCHASE, seq: 7, extra: 1 }),
    ).toBeUndefined();
    expect(parseJob({ kind: 'purchase', eventId: EVENT, purchaseId: PURCHASE })).toBeUndefined();
    expect(parseJob({ kind: 'purchase', eventId: EVENT, purchaseId: PURCHASE, seq: 0 })).toBeUndefined();
    expect(parseJob(null)).toBeUndefined();
  });

  it('when jobs are named, then ids are deterministic and distinct per kind', () => {
    expect(jobIdFor({ kind: 'purchase', eventId: EVENT, purchaseId: PURCHASE, seq: 7 })).toBe(PURCHASE);
    expect(jobIdFor({ kind: 'cancel', eventId: EVENT, purchaseId: PURCHASE, seq: 7 })).toBe(
      `cancel-${PURCHASE}`,
    );
  });
});

describe('announcements', () => {
  it('when events get jobs or work in Postgres only, then a worker reads which and how, and ignores anything else', () => {
    expect(parseAnnouncement(encodePendingEvents([EVENT]))).toEqual({ eventIds: [EVENT], inPostgres: false });
    expect(parseAnnouncement(encodeWorkInPostgres([EVENT]))).toEqual({ eventIds: [EVENT], inPostgres: true });
    for (const junk of ['not json', '{"inPostgres": "x"}', '["not-a-uuid", 3]', 'null', '{}'])
      expect(parseAnnouncement(junk).eventIds, junk).toEqual([]);
  });
});
