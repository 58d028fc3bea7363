import { readFileSync } from 'node:fs';
import { commonErrors, errorResponse, adminErrors } from '../http/common.schemas.js';
import { requireAdmin } from '../http/admin-auth.js';
import type { App, AppDeps } from '../app-types.js';
import { SaleOverview } from './admin.schemas.js';
import { loadSaleOverview } from './sale-overview.js';

/** Plain HTML and JavaScript, no build step: read once when the app is built. */
const MONITOR_PAGE = readFileSync(new URL('./monitor.html', import.meta.url), 'utf8');
const MONITOR_SCRIPT = readFileSync(new URL('./monitor.js', import.meta.url), 'utf8');

const adminOnly = { security: [{ adminToken: [] }] };

/** The on-sale monitor: a page at `/admin` and the figures it polls, both behind the admin token. */
export function registerAdminRoutes(app: App, deps: AppDeps): void {
  const guard = requireAdmin(deps.config.adminToken, { challenge: 'basic' });

  app.get(
    '/admin',
    {
      onRequest: guard,
      schema: {
        tags: ['operations'],
        summary: 'On-sale monitor page (HTML); log in with the admin token as basic-auth password',
        ...adminOnly,
        response: {
          200: { description: 'The monitor page', content: { 'text/html': { schema: { type: 'string' } } } },
          ...adminErrors,
          500: errorResponse[500],
        },
      },
    },
    async (_request, reply) => reply.type('text/html; charset=utf-8').send(MONITOR_PAGE),
  );

  app.get(
    '/admin/monitor.js',
    {
      onRequest: guard,
      schema: {
        tags: ['operations'],
        summary: "The monitor page's script",
        ...adminOnly,
        response: {
          200: {
            description: 'The script',
            content: { 'text/javascript': { schema: { type: 'string' } } },
          },
          ...adminErrors,
          500: errorResponse[500],
        },
      },
    },
    async (_request, reply) => reply.type('text/javascript; charset=utf-8').send(MONITOR_SCRIPT),
  );

  app.get(
    '/admin/api/sales',
    {
      onRequest: guard,
      schema: {
        tags: ['operations'],
        summary: 'Live figures of the newest events, for the monitor page',
        ...adminOnly,
        response: { 200: SaleOverview, ...adminErrors, ...commonErrors },
      },
    },
    async () => loadSaleOverview(deps),
  );
}
