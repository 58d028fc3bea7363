import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isLoopbackHost } from '@ticketing/shared';

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

const hostOf = (authority: string): string => authority.replace(/:\d+$/, '');

/**
 * Without a token the api only listens on loopback (`loadApiConfig`), yet a web page in the operator's
 * browser could still reach it: by DNS rebinding (its own name, resolving to 127.0.0.1, so a foreign
 * Host) or by a cross-site request (a foreign Origin). Only requests from this machine, addressed to
 * it, from no page or one of its own, are admitted.
 */
function fromThisMachine(request: FastifyRequest): boolean {
  if (!isLoopbackHost(request.ip) || !isLoopbackHost(hostOf(request.headers.host ?? ''))) return false;
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  try {
    return isLoopbackHost(new URL(origin).hostname);
  } catch {
    return false;
  }
}

/**
 * The guard of every admin route (event creation, the dashboard, the monitor): it admits a request
 * carrying the admin token, as `Authorization: Bearer <ADMIN_TOKEN>` or as the password of HTTP basic
 * auth (so a browser can log in to the admin pages with its own prompt). Without a configured token
 * (development: the api then listens on loopback only, and warns) they are open to this machine.
 * Digests keep the comparison constant-time whatever the length of what was sent.
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
    if (expected === undefined) {
      if (fromThisMachine(request)) return undefined;
      return reply.status(403).send({
        code: 'admin_local_only',
        message: 'Without ADMIN_TOKEN the admin routes answer only requests from this machine to localhost',
      });
    }
    if (timingSafeEqual(digest(presentedToken(request.headers.authorization)), expected)) return undefined;
    return reply.status(401).header('www-authenticate', challenge).send({
      code: 'unauthorized',
      message:
        'This route needs the admin token: Authorization: Bearer <token>, or basic auth with it as password',
    });
  };
}
