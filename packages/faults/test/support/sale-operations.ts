import type { RedisTarget } from '@ticketing/harness';
import type { FaultSystem } from './fault-system.js';

/** The event as the admin routes answer it (docs/running-a-sale.md), as far as the suite reads it. */
export interface OperatedEvent {
  readonly id: string;
  readonly totalTickets: number;
  readonly saleState: string;
  readonly pausedAt?: string | null;
  readonly pendingTotalTickets?: number | null;
}

export interface OperationAnswer {
  readonly status: number;
  readonly body: OperatedEvent & { readonly code?: string; readonly message?: string };
}

/**
 * One operation on an event's sale through the api (an admin route: open on loopback without
 * ADMIN_TOKEN): `PATCH /events/:id` with `change`, or `POST /events/:id/<operation>`.
 */
export async function operate(
  system: FaultSystem<RedisTarget>,
  eventId: string,
  operation: 'pause' | 'resume' | 'close' | 'cancel' | { readonly change: Record<string, unknown> },
): Promise<OperationAnswer> {
  const patch = typeof operation !== 'string';
  const response = await fetch(`${system.url}/events/${eventId}${patch ? '' : `/${operation}`}`, {
    method: patch ? 'PATCH' : 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(
      patch ? operation.change : operation === 'cancel' ? { reason: 'the fault suite cancels it' } : {},
    ),
    signal: AbortSignal.timeout(15_000),
  });
  return { status: response.status, body: (await response.json()) as OperationAnswer['body'] };
}

/** The same, expecting one of `statuses` (an error otherwise, with the answer). */
export async function operateOk(
  system: FaultSystem<RedisTarget>,
  eventId: string,
  operation: Parameters<typeof operate>[2],
  statuses: readonly number[] = [200],
): Promise<OperatedEvent> {
  const answer = await operate(system, eventId, operation);
  if (!statuses.includes(answer.status))
    throw new Error(
      `${JSON.stringify(operation)} on ${eventId}: ${answer.status} ${JSON.stringify(answer.body)}`,
    );
  return answer.body;
}
