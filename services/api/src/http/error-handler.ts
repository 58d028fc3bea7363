import type { FastifyError, FastifyInstance } from 'fastify';
import { AppError } from '@ticketing/shared';

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08001',
  '08003',
  '08006', // connection_failure
  '25006', // read_only_sql_transaction: a write that reached a primary demoted by a failover
]);

const UNAVAILABLE_MESSAGES = [
  'Connection terminated',
  // pg, for a client whose connection broke mid-transaction (the rollback cannot be sent either).
  'Client has encountered a connection error and is not queryable',
  'timeout exceeded when trying to connect',
  'Connection is closed',
  "Stream isn't writeable",
  'Command timed out',
  'Reached the max retries per request limit',
];

/** Postgres or Redis being away is a 503 the client may retry, not a bug. */
export function isUnavailableError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = 'code' in error ? String(error.code) : '';
  const message = 'message' in error ? String(error.message) : '';
  if (UNAVAILABLE_CODES.has(code)) return true;
  if (UNAVAILABLE_MESSAGES.some((fragment) => message.includes(fragment))) return true;
  return error instanceof AggregateError && error.errors.some(isUnavailableError);
}

const FASTIFY_CLIENT_ERRORS: Record<string, { code: string; message: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'body_too_large', message: 'The request body is larger than 1 MiB' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: 'unsupported_media_type',
    message: 'Send the request body as application/json',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    code: 'invalid_content_length',
    message: 'The Content-Length header does not match the body',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'invalid_json', message: 'The request body is empty' },
};

/** The single place where errors become responses: always `{ code, message }`, never internals. */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof AppError) {
      return reply.status(error.statusCode).send({ code: error.code, message: error.message });
    }
    if (error.validation) {
      return reply.status(400).send({ code: 'invalid_request', message: error.message });
    }
    const known = FASTIFY_CLIENT_ERRORS[error.code];
    const status = error.statusCode ?? 500;
    if (known !== undefined || (status >= 400 && status < 500)) {
      return reply
        .status(status >= 400 && status < 500 ? status : 400)
        .send(known ?? { code: 'bad_request', message: error.message });
    }
    if (isUnavailableError(error)) {
      request.log.warn({ err: error }, 'backing service unavailable');
      return reply
        .status(503)
        .send({ code: 'unavailable', message: 'A backing service is unavailable, try again shortly' });
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send({ code: 'internal', message: 'Internal server error' });
  });

  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .send({ code: 'not_found', message: `Route ${request.method} ${request.url.split('?')[0]} not found` }),
  );
}
