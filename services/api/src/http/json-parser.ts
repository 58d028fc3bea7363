import type { FastifyInstance } from 'fastify';
import secureJson from 'secure-json-parse';
import { AppError } from '@ticketing/shared';

/**
 * JSON is the only body type accepted (anything else is a 415), parsed safely (no prototype
 * poisoning). An empty body counts as no body at all, so `POST /purchases/:id/cancel` works whether
 * or not a client sends `Content-Type: application/json`.
 */
export function registerJsonParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    try {
      done(null, secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }));
    } catch {
      done(new AppError(400, 'invalid_json', 'The request body is not valid JSON'), undefined);
    }
  });
}
