import { readFileSync } from 'node:fs';
import { getHttpOperationsFromSpec } from '@stoplight/prism-http';
import prismRouter from '@stoplight/prism-http/dist/router/index.js';
import { validateInput, validateOutput } from '@stoplight/prism-http/dist/validator/index.js';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type { App } from '../../src/app-types.js';

/**
 * The API's tests, checked against the committed `openapi.json` by Stoplight Prism's validator (the
 * one its validating proxy runs, as a gateway in front of the api would): whatever the tests send and
 * receive, the document must say the same. The document is generated from the route schemas, yet can
 * still say what the server does not do (a body it does not need, a status it never answers, an error
 * code it does not name); this is what keeps the two from drifting apart.
 */

// A CommonJS module whose `exports.default` is the router: Node hands it over as the module object,
// while a bundler's interop may hand over the function itself.
const prismRoute: typeof prismRouter.default =
  typeof prismRouter === 'function' ? prismRouter : prismRouter.default;

type Operation = Awaited<ReturnType<typeof getHttpOperationsFromSpec>>[number];
type PrismRequest = Parameters<typeof validateInput>[0]['element'];
type PrismResponse = Parameters<typeof validateOutput>[0]['element'];

/** One request the app answered and its answer, as a client saw them. */
export interface Exchange {
  readonly request: PrismRequest;
  readonly response: PrismResponse;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, { responses: Record<string, { description?: string }> }>>;
}

const DOCUMENT_PATH = new URL('../../../../openapi.json', import.meta.url);

/** The committed document: what a client, a gateway or Postman reads. */
export const committedDocument = (): OpenApiDocument =>
  JSON.parse(readFileSync(DOCUMENT_PATH, 'utf8')) as OpenApiDocument;

interface ReadDocument {
  readonly document: OpenApiDocument;
  readonly operations: Operation[];
}

const readDocuments = new WeakMap<OpenApiDocument, Promise<ReadDocument>>();
let committed: OpenApiDocument | undefined;

/** A document and Prism's reading of it, once per document (the committed one once per test process). */
function read(document: OpenApiDocument): Promise<ReadDocument> {
  let reading = readDocuments.get(document);
  if (reading === undefined) {
    // Prism dereferences the object it is given: hand it a copy, keep the original for descriptions.
    reading = getHttpOperationsFromSpec(structuredClone(document)).then((operations) => ({
      document,
      operations,
    }));
    readDocuments.set(document, reading);
  }
  return reading;
}

const isJson = (contentType: unknown): boolean =>
  typeof contentType === 'string' && /^application\/([\w.+-]+\+)?json\b/.test(contentType);

const headersOf = (headers: Record<string, unknown>): Record<string, string> =>
  Object.fromEntries(
    Object.entries(headers)
      .filter(([, value]) => value !== undefined)
      .map(([name, value]) => [name.toLowerCase(), [value].flat().join(', ')]),
  );

function parsedBody(raw: string, contentType: unknown): unknown {
  if (raw === '') return undefined;
  if (!isJson(contentType)) return raw;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

/** The exchange as Prism reads one: the request as light-my-request sent it (headers it added too). */
export function toExchange(options: InjectOptions, response: LightMyRequestResponse): Exchange {
  const sent = response.raw.req;
  const headers = headersOf(sent.headers);
  const url = new URL(sent.url ?? '/', 'http://localhost');
  // One value as a string, repeated ones as a list: how Prism's query deserializers take them.
  const query: Record<string, string | string[]> = {};
  for (const name of new Set(url.searchParams.keys())) {
    const values = url.searchParams.getAll(name);
    query[name] = values.length === 1 ? (values[0] as string) : values;
  }
  const payload = options.payload ?? options.body;
  let body: unknown;
  if (payload === undefined || payload === null) {
    // A body-less request's Content-Type says nothing (the server ignores it; Prism would parse it).
    delete headers['content-type'];
    body = undefined;
  } else if (typeof payload === 'string' || Buffer.isBuffer(payload))
    body = parsedBody(payload.toString(), headers['content-type']);
  else body = payload;
  return {
    request: {
      method: (sent.method ?? 'GET').toLowerCase() as PrismRequest['method'],
      url: { path: url.pathname, query },
      headers,
      body,
    },
    response: {
      statusCode: response.statusCode,
      headers: headersOf(response.headers),
      body: parsedBody(response.body, response.headers['content-type']),
    },
  };
}

/**
 * Records every `inject()` exchange of an app (the tests' way of calling it), for `conformanceProblems`.
 * Wraps `inject` rather than hooking into Fastify, so requests Fastify refuses before any hook (a body
 * that is not JSON) are recorded as well, exactly as sent.
 */
export function recordExchanges(app: App): Exchange[] {
  const exchanges: Exchange[] = [];
  const inject = app.inject.bind(app) as (options: InjectOptions) => Promise<LightMyRequestResponse>;
  const recording = async (options: InjectOptions): Promise<LightMyRequestResponse> => {
    const response = await inject(options);
    exchanges.push(toExchange(options, response));
    return response;
  };
  Object.assign(app, { inject: recording });
  return exchanges;
}

const describe = (exchange: Exchange): string =>
  `${exchange.request.method.toUpperCase()} ${exchange.request.url.path} → ${exchange.response.statusCode}`;

const diagnostics = (result: { _tag: string; left?: readonly { message: string; path?: unknown }[] }) =>
  result._tag === 'Left'
    ? (result.left ?? []).map((diagnostic) =>
        [
          diagnostic.message,
          diagnostic.path === undefined ? '' : ` at ${JSON.stringify(diagnostic.path)}`,
        ].join(''),
      )
    : [];

/** Prism throws on what it cannot parse (a Content-Type that is no media type): a problem like any other. */
function readable(validate: () => string[]): string[] {
  try {
    return validate();
  } catch (error) {
    return [`Prism cannot read it: ${error instanceof Error ? error.message : String(error)}`];
  }
}

/**
 * What the document and the server disagree on, one line each (empty when they agree):
 * - the server accepted a request (2xx) the document refuses;
 * - the server refused a body as invalid (`invalid_request`, its schema check) the document accepts;
 * - the answer's status, content type, headers or body are not what the document describes;
 * - an error's `code` is not named in the document's description of that status for that route.
 * Requests to paths the document leaves out (hidden routes, unknown URLs) are not the document's
 * business: `openapi.test.ts` checks that every route not hidden is in it.
 */
export async function conformanceProblems(
  exchanges: readonly Exchange[],
  against: OpenApiDocument = (committed ??= committedDocument()),
): Promise<string[]> {
  const { document, operations } = await read(against);
  const problems = new Set<string>();
  for (const exchange of exchanges) {
    const matched = prismRoute({ resources: operations, input: exchange.request });
    if (matched._tag === 'Left') continue;
    const operation = matched.right;
    const what = describe(exchange);
    const { statusCode, body } = exchange.response;
    const requestProblems = readable(() =>
      diagnostics(validateInput({ resource: operation, element: exchange.request })),
    );
    // The server's schema check refused the body (Fastify names the part first: `body/quantity …`).
    // Query strings are left out: how a string becomes a number or a list differs between validators
    // (Fastify's and Prism's), and OpenAPI cannot say "no other parameters", which the server refuses.
    const { code, message } = (body ?? {}) as { code?: unknown; message?: unknown };
    const bodyRefusedAsInvalid =
      statusCode === 400 &&
      code === 'invalid_request' &&
      typeof message === 'string' &&
      message.startsWith('body');
    if (statusCode < 300 && requestProblems.length > 0)
      problems.add(
        `${what}: the server accepted a request the document refuses: ${requestProblems.join('; ')}`,
      );
    if (bodyRefusedAsInvalid && requestProblems.length === 0)
      problems.add(`${what}: the server refused as invalid a body the document accepts`);
    for (const problem of readable(() =>
      diagnostics(validateOutput({ resource: operation, element: exchange.response })),
    ))
      problems.add(`${what}: ${problem}`);
    if (statusCode >= 400 && typeof code === 'string') {
      const description =
        document.paths[operation.path]?.[operation.method]?.responses[String(statusCode)]?.description ?? '';
      if (!description.includes(`\`${code}\``))
        problems.add(
          `${what}: error code \`${code}\` is not named in the document's ${statusCode} description`,
        );
    }
  }
  return [...problems];
}

/** Which documented answers the exchanges met, as `METHOD /path/{template} status`. */
export async function answersMet(exchanges: readonly Exchange[]): Promise<Set<string>> {
  const { operations } = await read((committed ??= committedDocument()));
  const met = new Set<string>();
  for (const exchange of exchanges) {
    const matched = prismRoute({ resources: operations, input: exchange.request });
    if (matched._tag === 'Right')
      met.add(`${matched.right.method.toUpperCase()} ${matched.right.path} ${exchange.response.statusCode}`);
  }
  return met;
}
