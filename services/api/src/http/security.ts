import cors from '@fastify/cors';
import helmet from 'helmet';
import rateLimit from '@fastify/rate-limit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type Config, type RedisClient } from '@ticketing/shared';
import type { App } from '../app-types.js';

const rateLimited = (retryAfterSeconds: number): AppError =>
  new AppError(429, 'rate_limited', `Too many requests, retry in ${retryAfterSeconds} s`);

/**
 * Requests the limits never count: allow-listed clients (loopback by default), and everyone while
 * Redis is away, when the limits fail open at once instead of making each request wait for Redis to
 * time out (the purchase path answers 503 on its own then).
 */
function exempt(config: Config, redis: RedisClient) {
  const allowed = new Set(config.rateLimitAllowList);
  return (request: FastifyRequest): boolean => allowed.has(request.ip) || redis.status !== 'ready';
}

/**
 * What every JSON response carries, after OWASP's REST Security Cheat Sheet: never cached, never
 * framed, never sniffed into something else, HTTPS only. helmet's fuller set (a CSP for documents,
 * cross-origin isolation, legacy browser switches) is for the pages below, which a browser renders.
 */
const API_HEADERS = {
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
} as const;

/** The routes that serve pages and their assets: the monitor, the queue dashboard, Swagger UI. */
const servesPages = (url: string): boolean => url.startsWith('/admin') || url.startsWith('/docs');

/**
 * The edge: security headers on every response, CORS only for configured origins, and a per-IP rate
 * limit on every route, counted in Redis so that every api process shares it. Registered before any
 * route, so their hooks cover all of them.
 */
export function registerSecurity(app: App, config: Config, redis: RedisClient): void {
  // helmet's middleware, built once. (@fastify/helmet builds it anew for every request, parsing the
  // Content-Security-Policy each time: about 5% of the api's CPU under load, for the same headers.)
  const pageHeaders = helmet();
  app.addHook('onRequest', (request, reply, done) => {
    if (!servesPages(request.url)) {
      void reply.headers(API_HEADERS);
      done();
      return;
    }
    pageHeaders(request.raw, reply.raw, (error?: unknown) =>
      done(error instanceof Error ? error : undefined),
    );
  });
  if (config.corsOrigins !== undefined) {
    void app.register(cors, {
      origin: config.corsOrigins.includes('*') ? '*' : [...config.corsOrigins],
      methods: ['GET', 'POST'],
      allowedHeaders: ['content-type', 'authorization', 'idempotency-key', 'prefer'],
      exposedHeaders: ['location', 'retry-after', 'preference-applied'],
    });
  }
  if (config.rateLimitIpMax === 0 && config.rateLimitUserMax === 0) return;
  void app.register(rateLimit, {
    global: config.rateLimitIpMax > 0,
    max: config.rateLimitIpMax,
    timeWindow: config.rateLimitWindowMs,
    redis,
    nameSpace: `${config.queuePrefix}:rate-limit:ip:`,
    allowList: exempt(config, redis),
    skipOnError: true,
    errorResponseBuilder: (_request, context) => rateLimited(Math.ceil(context.ttl / 1000)),
  });
}

/**
 * A tighter limit on purchases per buyer, whatever IP they come from (bots rotate addresses, not
 * accounts): the buyer token's `sub` when buyer tokens are on, else the body's `userId`. A
 * preHandler, because it needs the parsed body; a no-op when disabled.
 */
export function perUserPurchaseLimit(app: App, config: Config, redis: RedisClient) {
  if (config.rateLimitUserMax === 0) return async (): Promise<void> => undefined;
  const check = app.createRateLimit({
    max: config.rateLimitUserMax,
    timeWindow: config.rateLimitWindowMs,
    keyGenerator: (request) =>
      `user:${request.buyerId ?? String((request.body as { userId?: unknown } | undefined)?.userId)}`,
    allowList: exempt(config, redis),
    skipOnError: true,
  });
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const limit = await check(request);
    if (limit.isAllowed || !limit.isExceeded) return;
    void reply.header('retry-after', limit.ttlInSeconds);
    throw rateLimited(limit.ttlInSeconds);
  };
}
