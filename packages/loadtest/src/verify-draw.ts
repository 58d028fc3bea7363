/**
 * `pnpm verify-draw URL EVENT_ID PURCHASE_ID [--commitment HEX]`: a buyer's check of an on-sale draw
 * (docs/on-sale.md). It reads the public `GET /events/:id/draw` and checks, with the same `checkDraw`
 * the tests use, that the revealed seed hashes to the commitment, that the keys are in drawn order and
 * where the buyer's own purchase stands. The commitment only proves something if it is the one the
 * buyer saw before the start: pass it with --commitment, or compare the printed one by eye.
 */
import { parseArgs } from 'node:util';
import { checkDraw } from '@ticketing/shared/draw';

export const VERIFY_USAGE = `usage: pnpm verify-draw URL EVENT_ID PURCHASE_ID [--commitment HEX]

  URL            the ticketing API, e.g. http://127.0.0.1:3000
  EVENT_ID       the event whose draw to check
  PURCHASE_ID    your purchase (the id its 202 answer gave you)
  --commitment   the commitment you wrote down before the sale started; checked against the one served`;

export interface VerifyRequest {
  readonly url: string;
  readonly eventId: string;
  readonly purchaseId: string;
  readonly commitment?: string;
}

export type VerifyOutcome = { readonly ok: boolean; readonly lines: readonly string[] };

const HEX64 = /^[0-9a-f]{64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The command line, or an Error whose message says what is wrong. */
export function parseVerifyArgs(argv: readonly string[]): VerifyRequest {
  const { values, positionals } = parseArgs({
    // `pnpm verify-draw -- …` passes the separator through on some pnpm versions.
    args: argv.filter((arg) => arg !== '--'),
    options: { commitment: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) throw new Error(VERIFY_USAGE);
  const args = positionals;
  if (args.length !== 3) throw new Error(`expected URL EVENT_ID PURCHASE_ID, got ${args.length} arguments`);
  const [url, eventId, purchaseId] = args as [string, string, string];
  let origin: URL;
  try {
    origin = new URL(url);
  } catch {
    throw new Error(`URL must be a URL such as http://127.0.0.1:3000, got ${url}`);
  }
  if (origin.protocol !== 'http:' && origin.protocol !== 'https:')
    throw new Error(`URL must be http or https, got ${url}`);
  for (const [name, id] of [
    ['EVENT_ID', eventId],
    ['PURCHASE_ID', purchaseId],
  ] as const)
    if (!UUID.test(id.toLowerCase())) throw new Error(`${name} must be a UUID, got ${id}`);
  const commitment = values.commitment?.toLowerCase();
  if (commitment !== undefined && !HEX64.test(commitment))
    throw new Error('--commitment must be 64 hex characters (the SHA-256 shown before the start)');
  return {
    url: url.replace(/\/+$/, ''),
    eventId: eventId.toLowerCase(),
    purchaseId: purchaseId.toLowerCase(),
    ...(commitment !== undefined ? { commitment } : {}),
  };
}

/** What `GET /events/:id/draw` answers: the commitment, and after the start the revealed draw. */
interface DrawAnswer {
  readonly commitment: string;
  /** When the sale starts (the draw is made by the first decisions after it). */
  readonly salesStartAt?: string;
  readonly seed?: string;
  readonly entrants?: number;
  readonly keys?: readonly string[];
}

function asDrawAnswer(body: unknown): DrawAnswer | string {
  if (typeof body !== 'object' || body === null) return 'the answer is not a JSON object';
  const { commitment, seed, entrants, keys, salesStartAt } = body as Record<string, unknown>;
  if (typeof commitment !== 'string' || !HEX64.test(commitment))
    return 'the answer has no commitment of 64 hex characters';
  if (seed === undefined)
    return typeof salesStartAt === 'string' ? { commitment, salesStartAt } : { commitment };
  if (typeof seed !== 'string') return 'the seed is not a string';
  if (!Array.isArray(keys) || !keys.every((k): k is string => typeof k === 'string' && HEX64.test(k)))
    return 'the keys are not a list of 64-hex-character draw keys';
  if (typeof entrants !== 'number' || entrants !== keys.length)
    return `entrants (${String(entrants)}) is not the number of keys (${keys.length})`;
  return { commitment, seed, entrants, keys };
}

/** Checks one served draw answer for one purchase: pure, so the tests give it any answer. */
export function verifyDrawAnswer(request: VerifyRequest, body: unknown): VerifyOutcome {
  const answer = asDrawAnswer(body);
  if (typeof answer === 'string') return { ok: false, lines: [`draw answer refused: ${answer}`] };
  if (request.commitment !== undefined && request.commitment !== answer.commitment)
    return {
      ok: false,
      lines: [
        'FAILED: the served commitment is not the one you wrote down before the start',
        `  yours   ${request.commitment}`,
        `  served  ${answer.commitment}`,
      ],
    };
  if (answer.seed === undefined || answer.keys === undefined)
    return {
      ok: false,
      lines: [
        `not drawn yet: the seed is revealed when the sale starts${answer.salesStartAt !== undefined ? ` (${answer.salesStartAt})` : ''}.`,
        'Write down this commitment now, and check again after the start with --commitment:',
        `  commitment  ${answer.commitment}`,
      ],
    };
  const check = checkDraw({
    commitment: answer.commitment,
    seedHex: answer.seed,
    keys: answer.keys,
    purchaseId: request.purchaseId,
  });
  if (!check.ok) return { ok: false, lines: [`FAILED: ${check.reason}`] };
  return {
    ok: true,
    lines: [
      `draw of event ${request.eventId} verified`,
      `  commitment  ${answer.commitment}`,
      `  seed        ${answer.seed}`,
      `  SHA-256(seed) = commitment${request.commitment !== undefined ? ' = the one you wrote down' : ''}`,
      `  ${check.entrants} keys, in ascending (drawn) order`,
      `purchase ${request.purchaseId}: place ${check.place} of ${check.entrants}`,
      ...(request.commitment === undefined
        ? ['(compare the commitment above with the one you saw before the start, or pass --commitment)']
        : []),
    ],
  };
}

/** Fetches the draw and checks it; network and HTTP failures become a failed outcome that says so. */
export async function verifyDraw(request: VerifyRequest): Promise<VerifyOutcome> {
  const address = `${request.url}/events/${request.eventId}/draw`;
  let response: Response;
  try {
    response = await fetch(address, { headers: { accept: 'application/json' } });
  } catch (error) {
    const cause =
      error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    return { ok: false, lines: [`could not reach ${address}: ${cause}`] };
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, lines: [`GET ${address}: HTTP ${response.status}, not JSON: ${text.slice(0, 200)}`] };
  }
  if (!response.ok) {
    const { code, message } = (body ?? {}) as { code?: unknown; message?: unknown };
    return {
      ok: false,
      lines: [`GET ${address}: HTTP ${response.status} ${String(code ?? '')}: ${String(message ?? text)}`],
    };
  }
  return verifyDrawAnswer(request, body);
}
