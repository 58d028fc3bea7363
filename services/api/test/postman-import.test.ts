import { readFileSync } from 'node:fs';
import { convert } from 'openapi-to-postmanv2';
import { describe, expect, it } from 'vitest';

/**
 * openapi.json is what people import into Postman (Import → the file) or Insomnia: converted by
 * Postman's own converter, openapi-to-postmanv2, it must become a collection with a request for every
 * operation, in folders by tag.
 */
interface CollectionItem {
  name: string;
  item?: CollectionItem[];
  request?: { method: string; url: { path?: string[] }; body?: { mode?: string } };
}

const document = JSON.parse(readFileSync(new URL('../../../openapi.json', import.meta.url), 'utf8')) as {
  info: { title: string };
  paths: Record<string, Record<string, unknown>>;
};

function toCollection(): Promise<{ info: { name: string }; item: CollectionItem[] }> {
  return new Promise((resolve, reject) => {
    convert({ type: 'json', data: document }, { folderStrategy: 'Tags' }, (error, result) => {
      if (error) return reject(error instanceof Error ? error : new Error(String(error)));
      if (result?.result !== true)
        return reject(new Error(`openapi-to-postmanv2 refused the document: ${result?.reason}`));
      const collection = result.output?.find((output) => output.type === 'collection');
      if (collection === undefined) return reject(new Error('no collection in the conversion'));
      resolve(collection.data as { info: { name: string }; item: CollectionItem[] });
    });
  });
}

const requestsOf = (items: readonly CollectionItem[]): CollectionItem[] =>
  items.flatMap((item) => (item.request === undefined ? requestsOf(item.item ?? []) : [item]));

// Postman writes a path parameter as `:id`; the document as `{id}`.
const operationOf = (item: CollectionItem): string =>
  `${item.request?.method} /${(item.request?.url.path ?? []).map((part) => part.replace(/^:(\w+)$/, '{$1}')).join('/')}`;

describe('openapi.json in Postman', () => {
  it('when openapi.json is converted as Postman imports it, then the collection has a request for every operation, in folders by tag', async () => {
    const collection = await toCollection();
    expect(collection.info.name).toBe(document.info.title);
    const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const requests = requestsOf(collection.item);
    expect(requests.map(operationOf).sort()).toEqual(operations.sort());
    expect(collection.item.map((folder) => folder.name)).toEqual(
      expect.arrayContaining(['events', 'purchases', 'webhooks']),
    );
  });
});
