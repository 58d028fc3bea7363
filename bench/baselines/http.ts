import Fastify, { type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { registerJsonParser } from '../../services/api/src/http/json-parser.js';
import { createValidatorCompiler } from '../../services/api/src/http/validator.js';
import { IdParams, errorResponse } from '../../services/api/src/http/common.schemas.js';
import {
  GetPurchaseQuery,
  PurchaseView,
  SubmitPurchaseBody,
  SubmitPurchaseHeaders,
} from '../../services/api/src/purchases/purchases.schemas.js';
import { CreateEventBody } from '../../services/api/src/events/events.schemas.js';

/**
 * What every baseline server shares with the api: Fastify with the same JSON parser and validators,
 * and the same request and response schemas for the routes the load client calls. A baseline differs
 * from the api only in what its handlers do.
 */
export function baselineApp() {
  const app = Fastify({
    requestIdHeader: false,
    return503OnClosing: false,
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(createValidatorCompiler());
  registerJsonParser(app as unknown as FastifyInstance);
  return app;
}

export type BaselineApp = ReturnType<typeof baselineApp>;

export const submitPurchaseSchema = {
  params: IdParams,
  headers: SubmitPurchaseHeaders,
  body: SubmitPurchaseBody,
  response: { 200: PurchaseView, 202: PurchaseView },
};

export const getPurchaseSchema = {
  params: IdParams,
  querystring: GetPurchaseQuery,
  response: { 200: PurchaseView, 404: errorResponse[404] },
};

export const createEventSchema = {
  body: CreateEventBody,
  response: { 201: Type.Object({ id: Type.String() }) },
};

/** The settings a baseline process is started with (the bench passes the api's own variables). */
export function baselineEnv(): { port: number; databaseUrl: string; redisUrl: string; metricsPort: number } {
  return {
    port: Number(process.env.PORT ?? '3000'),
    databaseUrl: process.env.DATABASE_URL ?? '',
    redisUrl: process.env.REDIS_URL ?? '',
    metricsPort: Number(process.env.WORKER_METRICS_PORT ?? '0'),
  };
}

/** Listens on the bench's port and stops on SIGTERM, closing what `close` names. */
export async function serve(app: BaselineApp, port: number, close: () => Promise<void> = async () => {}) {
  await app.listen({ port, host: '127.0.0.1' });
  process.on('SIGTERM', () => {
    void app
      .close()
      .then(close)
      .finally(() => process.exit(0));
  });
}
