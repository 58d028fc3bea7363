import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { adminErrors, commonErrors, errorResponse } from '../http/common.schemas.js';
import { requireAdmin } from '../http/admin-auth.js';
import type { App, AppDeps } from '../app-types.js';
import { SaleOverview } from './admin.schemas.js';
import { loadSaleOverview } from './sale-overview.js';

/** Plain HTML and JavaScript, no build step: read once when the app is built. */
const MONITOR_PAGE = readFileSync(new URL('./monitor.html', import.meta.url), 'utf8');
const fromPackage = createRequire(import.meta.url);

/**
 * What the page loads, all from this origin (the Content-Security-Policy allows nothing else): its
 * script, and uPlot (a small, well-kept canvas chart library) from its npm package.
 */
const MONITOR_ASSETS = [
  {
    url: '/admin/monitor.js',
    what: "The monitor page's script",
    type: 'text/javascript',
    body: readFileSync(new URL('./monitor.js', import.meta.url), 'utf8'),
  },
  {
    url: '/admin/uplot.js',
    what: 'uPlot, the chart library of the monitor page',
    type: 'text/javascript',
    body: readFileSync(fromPackage.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
  },
  {
    url: '/admin/uplot.css',
    what: "uPlot's style sheet",
    type: 'text/css',
    body: readFileSync(fromPackage.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
  },
] as const;

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
          429: errorResponse[429],
          500: errorResponse[500],
        },
      },
    },
    async (_request, reply) => reply.type('text/html; charset=utf-8').send(MONITOR_PAGE),
  );

  for (const asset of MONITOR_ASSETS) {
    app.get(
      asset.url,
      {
        onRequest: guard,
        schema: {
          tags: ['operations'],
          summary: asset.what,
          ...adminOnly,
          response: {
            200: { description: asset.what, content: { [asset.type]: { schema: { type: 'string' } } } },
            ...adminErrors,
            429: errorResponse[429],
            500: errorResponse[500],
          },
        },
      },
      async (_request, reply) => reply.type(`${asset.type}; charset=utf-8`).send(asset.body),
    );
  }

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
