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
  404: errorMeaning('No such resource (`not_found`)'),
  409: errorMeaning(
    'Not possible in the current state (`already_cancelled`, `not_cancellable`, `sale_not_open`, `sale_ended`, ' +
      '`already_queued`)',
  ),
  422: errorMeaning('Understood but refused (`quantity_over_limit`, `idempotency_key_reused`)'),
  429: errorMeaning('Too many requests; retry later'),
  500: errorMeaning('Internal error (`internal`); details are logged with the request id, never returned'),
  503: errorMeaning('Postgres or Redis is unavailable (`unavailable`); retry shortly'),
} as const;

export const IdParams = Type.Object({ id: Uuid }, { additionalProperties: false });

/** What the admin guard answers instead of the route (`requireAdmin`). */
export const adminErrors = {
  401: errorResponse[401],
  403: errorMeaning(
    'Not allowed: without ADMIN_TOKEN the admin routes answer only requests from this machine (`admin_local_only`)',
  ),
} as const;

/**
 * A buyer route's security: a buyer token (a JWT whose `sub` is the buyer) when the deployment turns
 * buyer tokens on, nothing otherwise; and what refusing one answers.
 */
export const buyerRoute: { security: { [scheme: string]: string[] }[] } = {
  security: [{ buyerToken: [] }, {}],
};
export const buyerErrors = {
  401: errorMeaning(
    'Buyer tokens are on and the bearer token is missing (`buyer_token_required`) or not valid: expired, ' +
      'wrongly signed, another issuer or audience, an algorithm not accepted (`invalid_token`)',
  ),
  403: errorMeaning("The body's `userId` is another buyer than the token's `sub` (`user_mismatch`)"),
} as const;

/** The error statuses any route may answer with, besides its own. */
export const commonErrors = {
  400: errorResponse[400],
  429: errorResponse[429],
  500: errorResponse[500],
  503: errorResponse[503],
} as const;
