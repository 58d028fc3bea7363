import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { AppError } from '@ticketing/shared';

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/**
 * The guard of every admin route (event creation today; dashboards and monitors as they come):
 * `preHandler: requireAdmin(config.adminToken)` admits a request carrying
 * `Authorization: Bearer <ADMIN_TOKEN>`. Without a configured token the routes are open (development;
 * the api warns at start-up). Digests keep the comparison constant-time whatever the length sent.
 */
export function requireAdmin(adminToken: string | undefined) {
  const expected = adminToken === undefined ? undefined : digest(adminToken);
  return async (request: FastifyRequest): Promise<void> => {
    if (expected === undefined) return;
    const header = request.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
    if (!timingSafeEqual(digest(token), expected)) {
      throw new AppError(401, 'unauthorized', 'This route needs Authorization: Bearer <admin token>');
    }
  };
}
