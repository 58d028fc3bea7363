import Fastify, { type FastifyServerOptions } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { unavailable } from '@ticketing/shared';
import type { App, AppDeps } from './app-types.js';
import { registerErrorHandler } from './http/error-handler.js';
import { registerJsonParser } from './http/json-parser.js';
import { registerSecurity } from './http/security.js';
import { createValidatorCompiler } from './http/validator.js';
import { registerEventRoutes } from './events/events.routes.js';
import { registerRunSaleRoutes } from './events/run-sale.routes.js';
import { registerHealthRoutes } from './health/health.routes.js';
import { registerSeedCompatibleRoutes } from './seed-compatible/seed-compatible.routes.js';
import { registerPurchaseRoutes } from './purchases/purchases.routes.js';
import { registerReportRoutes } from './reports/reports.routes.js';
import { registerOpenApi } from './docs/openapi.js';
import { registerMetrics } from './metrics/metrics.routes.js';
import { registerAdminRoutes } from './admin/admin.routes.js';
import { registerQueueDashboard } from './admin/queue-dashboard.js';
import { registerWebhookRoutes } from './webhooks/webhooks.routes.js';

export const BODY_LIMIT_BYTES = 1_048_576;

/** Builds the HTTP app around its dependencies; it never listens (that is `server.ts`'s job). */
export function buildApp(
  deps: AppDeps,
  options: Pick<FastifyServerOptions, 'logger' | 'loggerInstance'> = {},
): App {
  const app = Fastify({
    ...options,
    bodyLimit: BODY_LIMIT_BYTES,
    // Request ids tie log lines together; clients' own ids are not trusted.
    requestIdHeader: false,
    // The client IP (rate limits) comes from X-Forwarded-For only through this many trusted proxies.
    // (With none, the socket's address is used as it is, not parsed on every request.)
    trustProxy:
      deps.config.trustProxyHops > 0
        ? (_address: string, hop: number) => hop < deps.config.trustProxyHops
        : false,
    // Requests that arrive while closing get the one error shape (below), not Fastify's own 503 body.
    return503OnClosing: false,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(createValidatorCompiler());
  // Set by the buyer-token hook; declared up front so every request object has the same shape.
  app.decorateRequest('buyerId', undefined);
  registerJsonParser(app);
  registerErrorHandler(app);

  registerSecurity(app, deps.config, deps.redis);
  registerOpenApi(app);
  registerMetrics(app, deps);
  // Routes load after the edge plugins above, so the OpenAPI plugin sees every one of them and their
  // hooks (rate limits) apply to every route.
  void app.register(async (scope) => {
    const api = scope as App;
    registerHealthRoutes(api, deps);
    registerEventRoutes(api, deps);
    registerRunSaleRoutes(api, deps);
    registerPurchaseRoutes(api, deps);
    registerReportRoutes(api, deps);
    registerSeedCompatibleRoutes(api, deps);
    registerAdminRoutes(api, deps);
    registerQueueDashboard(api, deps);
    registerWebhookRoutes(api, deps);
  });
  // While closing, every response ends its connection (so keep-alive sockets do not hold the close
  // up), and a request that still arrives is told to retry, in the one error shape.
  let closing = false;
  // (Callback hooks rather than async ones: they run on every request, and cost no promise.)
  app.addHook('onRequest', (_request, _reply, done) =>
    done(closing ? unavailable('The server is shutting down, try again') : undefined),
  );
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) void reply.header('connection', 'close');
    done(null, payload);
  });
  app.addHook('preClose', async () => {
    closing = true;
    // Long-polls answer with what they have instead of holding the shutdown up for their full wait.
    deps.updates.stopWaiting();
  });
  return app;
}
