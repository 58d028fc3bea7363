import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** The token a request presents: a Bearer token, or the password of HTTP basic auth (any user name). */
export function presentedToken(authorization: string | undefined): string {
  const header = authorization ?? '';
  if (header.startsWith('Bearer ')) return header.slice('Bearer '.length);
  if (header.startsWith('Basic ')) {
    const decoded = Buffer.from(header.slice('Basic '.length), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon === -1 ? '' : decoded.slice(colon + 1);
  }
  return '';
}

export const ADMIN_REALM = 'Ticketing admin';

/**
 * The guard of every admin route (event creation, the dashboard, the monitor): it admits a request
 * carrying the admin token, as `Authorization: Bearer <ADMIN_TOKEN>` or as the password of HTTP basic
 * auth (so a browser can log in to the admin pages with its own prompt). Without a configured token
 * the routes are open (development; the api warns at start-up). Digests keep the comparison
 * constant-time whatever the length of what was sent.
 *
 * It answers the 401 itself rather than throwing, so it guards plugins that bring their own error
 * handler (Bull Board) the same way. `challenge: 'basic'` asks browsers for credentials.
 */
export function requireAdmin(
  adminToken: string | undefined,
  options: { challenge?: 'basic' | 'bearer' } = {},
) {
  const expected = adminToken === undefined ? undefined : digest(adminToken);
  const challenge =
    options.challenge === 'basic'
      ? `Basic realm="${ADMIN_REALM}", charset="UTF-8"`
      : `Bearer realm="${ADMIN_REALM}"`;
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    if (expected === undefined) return undefined;
    if (timingSafeEqual(digest(presentedToken(request.headers.authorization)), expected)) return undefined;
    return reply.status(401).header('www-authenticate', challenge).send({
      code: 'unauthorized',
      message:
        'This route needs the admin token: Authorization: Bearer <token>, or basic auth with it as password',
    });
  };
}
