import pg from 'pg';
import { ensureDatabase } from '../../packages/shared/src/db/connection.js';
import { createEventSchema, getPurchaseSchema, type BaselineApp } from './http.js';

/**
 * The books of the reference servers (`no-queue`, `bullmq-plain`): two tables, and the read routes the
 * load client's audit calls, so their runs are audited like the api's.
 */
export async function openBooks(databaseUrl: string): Promise<pg.Pool> {
  await ensureDatabase(databaseUrl);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 20 });
  pool.on('error', () => {});
  await pool.query(`
    create table if not exists events (
      id uuid primary key default gen_random_uuid(),
      total integer not null,
      sold integer not null default 0 check (sold between 0 and total),
      price_cents integer not null
    );
    create table if not exists purchases (
      id uuid primary key,
      event_id uuid not null references events,
      user_id text not null,
      quantity integer not null,
      status text not null,
      created_at timestamptz not null default now(),
      processed_at timestamptz
    );
    create index if not exists purchases_event_status on purchases (event_id, status);`);
  return pool;
}

export interface PurchaseRecord {
  id: string;
  event_id: string;
  user_id: string;
  quantity: number;
  status: 'queued' | 'confirmed' | 'rejected';
  created_at: Date;
  processed_at: Date | null;
}

/** A purchase as the api shows it (same response schema). */
export const purchaseView = (row: PurchaseRecord) => ({
  purchaseId: row.id,
  eventId: row.event_id,
  userId: row.user_id,
  quantity: row.quantity,
  status: row.status,
  ...(row.status === 'rejected' ? { reason: 'sold_out' as const } : {}),
  cancellationRequested: false,
  createdAt: row.created_at.toISOString(),
  ...(row.processed_at === null ? {} : { processedAt: row.processed_at.toISOString() }),
});

export async function findPurchase(pool: pg.Pool, id: string): Promise<PurchaseRecord | undefined> {
  const { rows } = await pool.query<PurchaseRecord>('select * from purchases where id = $1', [id]);
  return rows[0];
}

/** Event creation and the audit's reads; a baseline adds its own purchase routes. */
export function registerBookRoutes(app: BaselineApp, pool: pg.Pool): void {
  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/ready', async () => ({ status: 'ok' }));
  app.post('/events', { schema: createEventSchema }, async (request, reply) => {
    const { rows } = await pool.query<{ id: string }>(
      'insert into events (total, price_cents) values ($1, $2) returning id',
      [request.body.totalTickets, request.body.priceCents],
    );
    return reply.status(201).send({ id: rows[0]?.id ?? '' });
  });
  app.get<{ Params: { id: string } }>('/events/:id/status', async (request) => {
    const { rows } = await pool.query<{ total: number; sold: number }>(
      'select total, sold from events where id = $1',
      [request.params.id],
    );
    // No holds here: nothing is ever held, and the audit checks that too.
    return {
      totalTickets: rows[0]?.total ?? 0,
      soldTickets: rows[0]?.sold ?? 0,
      heldTickets: 0,
      waitlistCount: 0,
    };
  });
  app.get<{ Params: { id: string } }>('/events/:id/report', async (request) => {
    const { rows } = await pool.query<{ sold: number; price_cents: number }>(
      'select sold, price_cents from events where id = $1',
      [request.params.id],
    );
    const sold = rows[0]?.sold ?? 0;
    return {
      ticketsSold: sold,
      revenueCents: sold * (rows[0]?.price_cents ?? 0),
      waitlisted: 0,
      holdsExpired: 0,
    };
  });
}

export { getPurchaseSchema };
