import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drawCommitment, drawKey, drawOrder, newDrawSeed } from '@ticketing/shared';

/**
 * `pnpm verify-draw` run as a buyer runs it, as a process, against answers served over HTTP: the
 * command's exit code and output are what is asserted. Answers are fixtures here; the system test
 * against a running api lives with the on-sale's integration tests.
 */
const bin = fileURLToPath(new URL('../bin/verify-draw.mjs', import.meta.url));

const seed = newDrawSeed();
const commitment = drawCommitment(seed);
const purchases = Array.from({ length: 5 }, () => randomUUID());
const keys = drawOrder(purchases.map((id) => drawKey(seed, id)));
const eventId = randomUUID();

/** The body served for each event id: what `GET /events/:id/draw` would answer. */
const answers = new Map<string, { status: number; body: unknown }>();
const served = (body: unknown, status = 200) => {
  const id = randomUUID();
  answers.set(id, { status, body });
  return id;
};

let server: Server;
let url: string;

beforeAll(async () => {
  answers.set(eventId, { status: 200, body: { commitment, seed: seed.toString('hex'), entrants: 5, keys } });
  server = createServer((req, res) => {
    const id = /^\/events\/([^/]+)\/draw$/.exec(req.url ?? '')?.[1];
    const answer = (id && answers.get(id)) || {
      status: 404,
      body: { code: 'not_found', message: 'event not found' },
    };
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function verify(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

describe('pnpm verify-draw', () => {
  it('when the draw is revealed, then it prints the purchase’s place of N and exits 0', async () => {
    const purchaseId = purchases[3]!;
    const place = keys.indexOf(drawKey(seed, purchaseId)) + 1;
    const result = await verify(url, eventId, purchaseId.toUpperCase());
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`place ${place} of 5`);
    expect(result.stdout).toContain(commitment);
  });

  it('when the commitment written down before the start is given, then it must equal the served one', async () => {
    const ok = await verify(url, eventId, purchases[0]!, '--commitment', commitment.toUpperCase());
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('the one you wrote down');
    const other = drawCommitment(newDrawSeed());
    const changed = await verify(url, eventId, purchases[0]!, '--commitment', other);
    expect(changed.code).toBe(1);
    expect(changed.stderr).toContain('not the one you wrote down');
  });

  it('when the draw is not made yet, then it shows the commitment to write down and exits 1', async () => {
    const result = await verify(url, served({ commitment }), purchases[0]!);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('not drawn yet');
    expect(result.stderr).toContain(commitment);
  });

  it('when the seed does not hash to the commitment, the keys are out of order or the purchase is missing, then it fails saying which', async () => {
    const hex = seed.toString('hex');
    const cases: [unknown, string][] = [
      [{ commitment, seed: 'ab'.repeat(32), entrants: 5, keys }, 'does not match the commitment'],
      [{ commitment, seed: hex, entrants: 5, keys: [...keys].reverse() }, 'not in ascending order'],
      [{ commitment, seed: hex, entrants: 4, keys: keys.slice(1) }, 'not among the entrants'],
      [{ commitment, seed: hex, entrants: 6, keys }, 'not the number of keys'],
      [{ seed: hex }, 'no commitment'],
    ];
    const purchaseId = purchases.find((id) => drawKey(seed, id) === keys[0])!;
    for (const [body, reason] of cases) {
      const result = await verify(url, served(body), purchaseId);
      expect(result.code, reason).toBe(1);
      expect(result.stderr, reason).toContain(reason);
    }
  });

  it('when the api answers an error, then its code and message are shown and it exits 1', async () => {
    const result = await verify(url, randomUUID(), purchases[0]!);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/HTTP 404 not_found: event not found/);
  });

  it('when the arguments are wrong, then it prints the usage and exits 2', async () => {
    for (const args of [
      [url, eventId],
      [url, 'no-uuid', purchases[0]!],
      ['nowhere', eventId, purchases[0]!],
    ]) {
      const result = await verify(...args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toContain('usage: pnpm verify-draw');
    }
  });
});
