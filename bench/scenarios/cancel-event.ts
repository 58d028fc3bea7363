import type { LoadOptions } from '../../packages/loadtest/src/index.js';
import { cpuPerUnit, type BenchSystem, type ResultRow } from '../bench-types.js';
import { runBacklog } from './backlog.js';

/**
 * An event's cancellation at scale (docs/running-a-sale.md): the backlog scenario fills one event
 * (the api accepts every purchase with no worker running, then one worker decides them: some
 * confirmed, the rest waiting), then `POST /events/:id/cancel` and the worker cancels every purchase
 * in queue order, a batch a round. Timed from the request to `cancellation_finished_at`; the books are
 * checked in Postgres: nothing left active, sold or held, every booking cancelled.
 */
export async function runEventCancellation(
  system: BenchSystem,
  what: string,
  options: LoadOptions,
  progress: (line: string) => void,
): Promise<ResultRow[]> {
  const backlog = await runBacklog(
    system,
    { accept: 'cancel-event-accept', drain: 'cancel-event-drain' },
    what,
    options,
    progress,
  );
  const [event] = await system.query<{ id: string }>('select id from events');
  if (event === undefined) throw new Error('the backlog made no event');
  const [{ purchases } = { purchases: 0 }] = await system.query<{ purchases: number }>(
    `select count(*)::integer as purchases from purchases where event_id = '${event.id}'`,
  );

  const start = await system.cpu();
  const began = performance.now();
  const response = await fetch(`${system.url}/events/${event.id}/cancel`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(options.adminToken === undefined ? {} : { authorization: `Bearer ${options.adminToken}` }),
    },
    body: JSON.stringify({ reason: 'bench: the show is off' }),
  });
  if (response.status !== 202)
    throw new Error(`cancel answered ${response.status}: ${await response.text()}`);
  for (;;) {
    const [row] = await system.query<{ finished: boolean }>(
      `select cancellation_finished_at is not null as finished from events where id = '${event.id}'`,
    );
    if (row?.finished === true) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const seconds = (performance.now() - began) / 1000;
  const end = await system.cpu();
  progress(`${purchases} purchases cancelled in ${seconds.toFixed(1)} s`);

  const [books] = await system.query<{ active: number; taken: number; bookings: number }>(`
    select
      (select count(*)::integer from purchases where event_id = '${event.id}'
        and status in ('prequeued', 'queued', 'held', 'confirmed', 'waitlisted')) as active,
      (select sold_tickets + held_tickets from events where id = '${event.id}') as taken,
      (select count(*)::integer from bookings where event_id = '${event.id}' and cancelled_at is null) as bookings`);
  const problems = [
    books?.active ? `${books.active} purchases not cancelled` : '',
    books?.taken ? `${books.taken} tickets still taken` : '',
    books?.bookings ? `${books.bookings} bookings still active` : '',
  ].filter(Boolean);
  return [
    ...backlog,
    {
      name: 'cancel-event',
      what: 'then the event is cancelled: every purchase ends cancelled, a batch a round (request to finish)',
      units: purchases,
      unit: 'purchase',
      perSecond: Math.round(purchases / seconds),
      cpuMicros: cpuPerUnit(start, end, purchases),
      errors: 0,
      audit: problems.length === 0 ? 'ok' : `FAILED: ${problems.join('; ')}`,
    },
  ];
}
