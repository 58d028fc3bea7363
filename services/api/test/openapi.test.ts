import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { registeredRoutes } from './support/routes.js';
import { useTestSystem } from './support/test-system.js';

type OpenApiDocument = {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, unknown>; security?: unknown[] }>>;
};

const system = await useTestSystem({}, { worker: false });
const toOpenApiPath = (url: string): string => url.replace(/:(\w+)/g, '{$1}');

describe('OpenAPI document', () => {
  it('when /docs/json is read, then it is a valid OpenAPI 3.1 document', async () => {
    const response = await system.app.inject({ method: 'GET', url: '/docs/json' });
    expect(response.statusCode).toBe(200);
    const validator = new Validator();
    const result = await validator.validate(response.json());
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('when the app is built, then every route it serves is described with its success and error responses', async () => {
    const document = (await system.app.inject({ method: 'GET', url: '/docs/json' })).json<OpenApiDocument>();
    const described = (await registeredRoutes(system.deps)).filter(
      (route) => !route.hidden && route.method !== 'HEAD',
    );
    expect(described.length).toBeGreaterThan(15);
    for (const route of described) {
      const operation = document.paths[toOpenApiPath(route.url)]?.[route.method.toLowerCase()];
      expect(operation, `${route.method} ${route.url}`).toBeDefined();
      const statuses = Object.keys(operation?.responses ?? {}).map(Number);
      expect(
        statuses.some((status) => status < 300),
        `${route.method} ${route.url} success`,
      ).toBe(true);
      expect(
        statuses.some((status) => status >= 400),
        `${route.method} ${route.url} errors`,
      ).toBe(true);
    }
    for (const path of ['/events', '/purchases/{id}', '/metrics', '/admin', '/admin/api/sales', '/ready'])
      expect(Object.keys(document.paths)).toContain(path);
    expect(document.paths['/events']?.post?.security).toEqual([{ adminToken: [] }]);
  });

  it('when the routes change, then the committed openapi.json must be regenerated (pnpm openapi)', async () => {
    const document = (await system.app.inject({ method: 'GET', url: '/docs/json' })).json<OpenApiDocument>();
    await expect(`${JSON.stringify(document, null, 2)}\n`).toMatchFileSnapshot('../../../openapi.json');
  });

  it('when /docs is opened, then the Swagger UI page is served', async () => {
    const response = await system.app.inject({ method: 'GET', url: '/docs' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/html');
    expect(response.body).toContain('swagger-ui');
  });
});
