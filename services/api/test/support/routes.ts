import type { RouteOptions } from 'fastify';
import { buildApp } from '../../src/app.js';
import type { AppDeps } from '../../src/app-types.js';

export interface RegisteredRoute {
  readonly method: string;
  readonly url: string;
  /** Left out of the OpenAPI document. */
  readonly hidden: boolean;
}

/**
 * Every route an app over `deps` serves, seen as Fastify registers it (which is how the OpenAPI
 * document is built, too), so a test can check a rule against routes added later as well. The routes
 * load when the app gets ready, after the hook that records them. The app is left unclosed: it never
 * listens, and closing it would release the long-polls of the dependencies it shares with the test's
 * own app.
 */
export async function registeredRoutes(deps: AppDeps): Promise<RegisteredRoute[]> {
  const app = buildApp(deps);
  const routes: RegisteredRoute[] = [];
  app.addHook('onRoute', (route: RouteOptions) => {
    const hidden = (route.schema as { hide?: boolean } | undefined)?.hide === true;
    for (const method of [route.method].flat()) routes.push({ method, url: route.url, hidden });
  });
  await app.ready();
  return routes;
}

const SAMPLE_ID = '00000000-0000-4000-8000-000000000000';

/** A URL a route answers: its parameters and wildcard filled in. */
export const sampleUrl = (url: string): string =>
  url.replace(/:[A-Za-z]+/g, SAMPLE_ID).replace(/\*$/, 'anything');
