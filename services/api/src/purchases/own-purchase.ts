import type { FastifyRequest, preHandlerHookHandler } from 'fastify';
import { notFound, unsafeSwitches } from '@ticketing/shared';
import type { AppDeps } from '../app-types.js';

const anyBuyer = unsafeSwitches['any-buyer'];

/**
 * The preHandler of every route on one purchase (`/purchases/:id/...`: read, cancel, confirm …):
 * with buyer tokens on, another buyer's purchase is not found, exactly as one that does not exist.
 * Undefined while buyer tokens are off (anyone may act on any purchase then, as the original API let
 * them), so those routes cost nothing more.
 */
export function ownPurchaseOnly(
  deps: Pick<AppDeps, 'buyers' | 'purchases'>,
): preHandlerHookHandler | undefined {
  if (!deps.buyers.required) return undefined;
  return async (request: FastifyRequest): Promise<void> => {
    const { id } = request.params as { id: string };
    const purchase = await deps.purchases.loadView(id);
    if (purchase === undefined || !(deps.buyers.owns(request, purchase.userId) || anyBuyer))
      throw notFound('Purchase');
  };
}
