import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyOptions, type JWTVerifyResult } from 'jose';
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { AppError, unavailable, type Config } from '@ticketing/shared';

declare module 'fastify' {
  interface FastifyRequest {
    /** The buyer a verified token names (its `sub`); undefined while buyer tokens are off. */
    buyerId: string | undefined;
  }
}

export const BUYER_REALM = 'Ticketing buyers';

/** The identity providers' signing algorithms: a key set is never a shared secret (no HS*, no none). */
const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];

/** Buyer ids are stored as purchases' `userId`, which holds at most this much. */
const MAX_SUBJECT_LENGTH = 128;

/** A clock a few seconds off (the issuer's or ours) must not expire a fresh token. */
const CLOCK_TOLERANCE_SECONDS = 5;

export interface BuyerTokens {
  /** The buyer a request's bearer token names; an `AppError` 401 for a missing or bad token. */
  verify(authorization: string | undefined): Promise<string>;
}

/**
 * Buyer tokens as configured (`BUYER_JWT_SECRET` or `BUYER_JWKS_URL`), verified with jose; undefined
 * while they are off. Only the configured kind of algorithm is accepted, `exp` and `sub` are required,
 * and `iss` / `aud` must match when configured. An identity provider's keys are fetched on first use
 * and cached (re-fetched at most every 30 s when a token names an unknown key, as after a rotation).
 */
export function createBuyerTokens(config: Config): BuyerTokens | undefined {
  const verifyToken = tokenVerifier(config);
  if (verifyToken === undefined) return undefined;
  return {
    async verify(authorization) {
      const token = /^Bearer ([\x21-\x7E]+)$/.exec(authorization ?? '')?.[1];
      if (token === undefined) throw buyerTokenRequired();
      let subject: string | undefined;
      try {
        subject = (await verifyToken(token)).payload.sub;
      } catch (error) {
        throw tokenError(error);
      }
      if (subject === undefined || subject.trim() === '' || subject.length > MAX_SUBJECT_LENGTH) {
        throw invalidToken(`The buyer token's sub must name the buyer in 1-${MAX_SUBJECT_LENGTH} characters`);
      }
      return subject;
    },
  };
}

/** Verifies a token against the configured secret or key set; undefined while neither is set. */
function tokenVerifier(config: Config): ((token: string) => Promise<JWTVerifyResult>) | undefined {
  const options: JWTVerifyOptions = {
    algorithms: config.buyerJwtSecret !== undefined ? ['HS256'] : ASYMMETRIC_ALGORITHMS,
    requiredClaims: ['exp', 'sub'],
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
    ...(config.buyerJwtIssuer === undefined ? {} : { issuer: config.buyerJwtIssuer }),
    ...(config.buyerJwtAudience === undefined ? {} : { audience: config.buyerJwtAudience }),
  };
  if (config.buyerJwtSecret !== undefined) {
    const key = new TextEncoder().encode(config.buyerJwtSecret);
    return (token) => jwtVerify(token, key, options);
  }
  if (config.buyerJwksUrl !== undefined) {
    const keys = createRemoteJWKSet(new URL(config.buyerJwksUrl));
    return (token) => jwtVerify(token, keys, options);
  }
  return undefined;
}

const buyerTokenRequired = (): AppError =>
  new AppError(401, 'buyer_token_required', 'This route needs a buyer token: Authorization: Bearer <jwt>');

const invalidToken = (message: string): AppError => new AppError(401, 'invalid_token', message);

/** What a failed verification tells the client: enough to fix their token, nothing about ours. */
function tokenError(error: unknown): AppError {
  if (error instanceof errors.JWTExpired) return invalidToken('The buyer token has expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    return invalidToken(`The buyer token's ${error.claim} claim is missing or not accepted here`);
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return invalidToken("The buyer token's algorithm is not accepted");
  }
  if (error instanceof errors.JWKSTimeout) return unavailable('The identity provider did not answer in time');
  if (error instanceof errors.JOSEError)
    return invalidToken('The buyer token is malformed or its signature is not valid');
  // The key set could not be fetched at all (the identity provider is away): not the client's fault.
  return Object.assign(unavailable('The identity provider cannot be reached, try again shortly'), {
    cause: error,
  });
}

/**
 * Who may act on buyer routes. With buyer tokens on, every buyer route runs `authenticate` (it
 * verifies the bearer token and sets `request.buyerId`), the buyer is the token's `sub`, and a buyer
 * sees only their own purchases; a route that forgot the hook acts for nobody (closed, not open). With
 * them off, the body's `userId` is trusted, as the original API did, and the hook is undefined so
 * those routes cost nothing more.
 */
export class BuyerAccess {
  readonly authenticate: onRequestHookHandler | undefined;

  constructor(private readonly tokens: BuyerTokens | undefined) {
    this.authenticate =
      tokens === undefined
        ? undefined
        : async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
            try {
              request.buyerId = await tokens.verify(request.headers.authorization);
            } catch (error) {
              if (error instanceof AppError && error.statusCode === 401) {
                void reply.header('www-authenticate', `Bearer realm="${BUYER_REALM}", error="invalid_token"`);
              }
              throw error;
            }
          };
  }

  /** Whether buyers must present tokens. */
  get required(): boolean {
    return this.tokens !== undefined;
  }

  /**
   * Who a buyer route acts for: the token's buyer, or without tokens the body's `userId` (then
   * required). A body naming another `userId` than the token is refused (403), not silently replaced.
   */
  buyerOf(request: FastifyRequest, claimed: string | number | undefined): string {
    if (this.tokens === undefined) {
      if (claimed === undefined)
        throw new AppError(400, 'user_id_required', 'userId is required (buyer tokens are off)');
      return String(claimed);
    }
    const buyerId = request.buyerId;
    if (buyerId === undefined) throw buyerTokenRequired();
    if (claimed !== undefined && String(claimed) !== buyerId) {
      throw new AppError(403, 'user_mismatch', "userId differs from the buyer token's sub; leave it out");
    }
    return buyerId;
  }

  /** Whether the request's buyer may see and act on a purchase of `userId`. */
  owns(request: FastifyRequest, userId: string): boolean {
    return this.tokens === undefined || (request.buyerId !== undefined && request.buyerId === userId);
  }
}
