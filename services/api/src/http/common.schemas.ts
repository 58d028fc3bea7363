import { Type } from 'typebox';

export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

export const Uuid = Type.String({ pattern: UUID_PATTERN, description: 'A UUID' });

/** Every error the API returns has this shape, whatever its status. */
const errorProperties = {
  code: Type.String({ description: 'Stable machine-readable error code' }),
  message: Type.String({ description: 'What went wrong, for people' }),
};

/** The error shape, with what a given status means on this API (the OpenAPI response description). */
export const errorMeaning = (description: string) => Type.Object(errorProperties, { description });

/**
 * Each error response names every `code` its route answers with, in backticks: the API tests check
 * each code they meet against its description (test/support/openapi-conformance.ts).
 */
const named = (codes: readonly string[]): string => codes.map((code) => `\`${code}\``).join(', ');

/** A 400 naming the codes any route may answer it with, and the route's own. */
export const invalidRequest = (...routeCodes: readonly string[]) =>
  errorMeaning(
    `The request is invalid: body, parameters, query or headers (${named(['invalid_request', ...routeCodes])}), ` +
      'a body that is not JSON (`invalid_json`) or not as long as its Content-Length (`invalid_content_length`)',
  );

/** A 422: the request is valid, and refused for the reasons the route's codes name. */
export const refusedResponse = (codes: readonly string[]) =>
  errorMeaning(`Understood but refused (${named(codes)})`);

export const errorResponse = {
  400: invalidRequest(),
  401: errorMeaning('The admin token is missing or wrong (`unauthorized`)'),
  404: errorMeaning('No such resource (`not_found`)'),
  429: errorMeaning(
    'Too many requests from this address or buyer (`rate_limited`); retry after `Retry-After`',
  ),
  500: errorMeaning('Internal error (`internal`); details are logged with the request id, never returned'),
  503: errorMeaning('Postgres or Redis is unavailable (`unavailable`); retry shortly'),
} as const;

/**
 * A 409 naming every code the route answers it with: the domain's list of its refusals, so a refusal
 * added there is documented here without anyone remembering to.
 */
export const conflictResponse = (codes: readonly string[]) =>
  errorMeaning(`Not possible in the current state (${named(codes)})`);

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

/** What the JSON body parser refuses, on every route that takes a body. */
export const bodyErrors = {
  413: errorMeaning('The body is larger than 1 MiB (`body_too_large`)'),
  415: errorMeaning('The body is not sent as `application/json` (`unsupported_media_type`)'),
} as const;

/** The error statuses any route may answer with, besides its own. */
export const commonErrors = {
  400: errorResponse[400],
  429: errorResponse[429],
  500: errorResponse[500],
  503: errorResponse[503],
} as const;
