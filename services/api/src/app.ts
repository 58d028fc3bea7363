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

  registerHealthRoutes(app, deps);
  registerEventRoutes(app, deps);
  registerPurchaseRoutes(app, deps);
  registerReportRoutes(app, deps);
  registerLegacyRoutes(app, deps);
  return app;
}
