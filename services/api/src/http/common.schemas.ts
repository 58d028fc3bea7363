import { Type } from 'typebox';

export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

export const Uuid = Type.String({ pattern: UUID_PATTERN, description: 'A UUID' });

/** Every error the API returns has this shape, whatever its status. */
const errorProperties = {
  code: Type.String({ description: 'Stable machine-readable error code' }),
  message: Type.String({ description: 'What went wrong, for people' }),
};

/** The error shape, with what a given status means on this API (the OpenAPI response description). */
const errorMeaning = (description: string) => Type.Object(errorProperties, { description });

export const errorResponse = {
  400: errorMeaning('The request is invalid: body, parameters, query or headers (`invalid_request`, …)'),
  401: errorMeaning('The admin token is missing or wrong (`unauthorized`)'),
  403: errorMeaning(
    'Not allowed: without ADMIN_TOKEN the admin routes answer only requests from this machine (`admin_local_only`)',
  ),
  404: errorMeaning('No such resource (`not_found`)'),
  409: errorMeaning('Not possible in the current state (`already_cancelled`, `not_cancellable`)'),
  422: errorMeaning('Understood but refused (`quantity_over_limit`, `idempotency_key_reused`)'),
  429: errorMeaning('Too many requests; retry later'),
  500: errorMeaning('Internal error (`internal`); details are logged with the request id, never returned'),
  503: errorMeaning('Postgres or Redis is unavailable (`unavailable`); retry shortly'),
} as const;

export const IdParams = Type.Object({ id: Uuid }, { additionalProperties: false });

/** What the admin guard answers instead of the route (`requireAdmin`). */
export const adminErrors = { 401: errorResponse[401], 403: errorResponse[403] } as const;

/** The error statuses any route may answer with, besides its own. */
export const commonErrors = {
  400: errorResponse[400],
  429: errorResponse[429],
  500: errorResponse[500],
  503: errorResponse[503],
} as const;
