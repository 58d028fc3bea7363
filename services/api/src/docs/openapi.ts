import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifySchema {
    /**
     * The route accepts a request without a body (its preValidation reads a missing one as `{}`).
     * @fastify/swagger marks every declared body required, since Fastify itself would refuse a missing
     * one; this says otherwise in the document.
     */
    [OPTIONAL_BODY]?: true;
  }
}

/** The schema key of a route whose body may be left out; an OpenAPI extension until the document is built. */
export const OPTIONAL_BODY = 'x-optional-body';

type Operation = { requestBody?: { required?: boolean }; [OPTIONAL_BODY]?: true };

/** A body the route may go without is not required; the marker itself is not for readers. */
function markOptionalBodies(document: { paths?: Record<string, Record<string, Operation>> }): void {
  for (const operations of Object.values(document.paths ?? {}))
    for (const operation of Object.values(operations)) {
      if (operation[OPTIONAL_BODY] !== true) continue;
      delete operation[OPTIONAL_BODY];
      if (operation.requestBody !== undefined) operation.requestBody.required = false;
    }
}

/** Where the interactive documentation lives; the document itself is at `${DOCS_PREFIX}/json`. */
export const DOCS_PREFIX = '/docs';

/**
 * The OpenAPI document is generated from the routes' own schemas, never written by hand. Schemas that
 * carry an `$id` (Event, Purchase, Error, …) become named components. Register this before any route.
 */
export function registerOpenApi(app: FastifyInstance): void {
  app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Ticketing API',
        version: '1.0.0',
        description:
          'Event ticketing that cannot oversell: purchases join their event’s queue and are decided in order. ' +
          'Every error is `{ code, message }`.',
      },
      tags: [
        { name: 'events', description: 'Events and their live availability' },
        { name: 'purchases', description: 'Buying, following and cancelling' },
        { name: 'reports', description: 'Sales reports' },
        { name: 'health', description: 'Liveness and readiness' },
        { name: 'operations', description: 'Metrics and the on-sale monitor' },
        {
          name: 'webhooks',
          description:
            'Signed webhooks (Standard Webhooks) for every purchase state change and sold-out events',
        },
        { name: 'seed-compatible', description: 'The original system’s routes, kept for its clients' },
      ],
      components: {
        securitySchemes: {
          adminToken: {
            type: 'http',
            scheme: 'bearer',
            description: 'ADMIN_TOKEN, as a Bearer token (or as the password of HTTP basic auth)',
          },
          buyerToken: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description:
              'When the deployment sets BUYER_JWT_SECRET (HS256) or BUYER_JWKS_URL (an identity provider), ' +
              'every buyer route needs a JWT whose `sub` is the buyer (with `exp`, and the configured `iss` / `aud`); ' +
              'a buyer sees and acts on their own purchases only. Without either, these routes need no token.',
          },
        },
      },
    },
    transformObject: (documentObject) => {
      if (!('openapiObject' in documentObject)) return documentObject.swaggerObject;
      markOptionalBodies(documentObject.openapiObject as Parameters<typeof markOptionalBodies>[0]);
      return documentObject.openapiObject;
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, index) =>
        typeof json.$id === 'string' ? json.$id : `def-${index}`,
    },
  });
  app.register(swaggerUi, { routePrefix: DOCS_PREFIX, staticCSP: true });
}
