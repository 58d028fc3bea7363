import Fastify, { type FastifyServerOptions } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { App, AppDeps } from './deps.js';
import { registerErrorHandler } from './http/error-handler.js';
import { registerJsonParser } from './http/json-parser.js';
import { createValidatorCompiler } from './http/validator.js';
import { registerEventRoutes } from './events/events.routes.js';
import { registerHealthRoutes } from './health/health.routes.js';
import { registerLegacyRoutes } from './legacy/legacy.routes.js';
import { registerPurchaseRoutes } from './purchases/purchases.routes.js';
import { registerReportRoutes } from './reports/reports.routes.js';
import { registerOpenApi } from './docs/openapi.js';
import { registerMetrics } from './metrics/metrics.routes.js';
import { registerAdminRoutes } from './admin/admin.routes.js';
import { registerQueueDashboard } from './admin/queue-dashboard.js';

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
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(createValidatorCompiler());
  registerJsonParser(app);
  registerErrorHandler(app);

  registerOpenApi(app);
  registerMetrics(app, deps);
  // Routes are registered after the OpenAPI plugin has loaded, so it sees every one of them.
  app.register(async (scope) => {
    const api = scope as App;
    registerHealthRoutes(api, deps);
    registerEventRoutes(api, deps);
    registerPurchaseRoutes(api, deps);
    registerReportRoutes(api, deps);
    registerLegacyRoutes(api, deps);
    registerAdminRoutes(api, deps);
    registerQueueDashboard(api, deps);
  });
  return app;
}
