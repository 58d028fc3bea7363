import { randomUUID } from 'node:crypto';

/** One purchase sent while something is down: what came back, and how fast. */
export async function probePurchase(
  baseUrl: string,
  eventId: string,
): Promise<{ status: string; ms: number }> {
  const started = Date.now();
  try {
    const response = await fetch(`${baseUrl}/events/${eventId}/purchases`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': `probe-${randomUUID()}` },
      body: JSON.stringify({ userId: `probe-${randomUUID()}` }),
      signal: AbortSignal.timeout(15_000),
    });
    const body = (await response.json()) as { code?: string };
    return { status: `${response.status}${body.code ? ` ${body.code}` : ''}`, ms: Date.now() - started };
  } catch (error) {
    return { status: error instanceof Error ? error.message : 'error', ms: Date.now() - started };
  }
}
