/**
 * `no-queue`: the design without a queue. Each purchase is decided inside its request by one
 * statement, a conditional update of the event (`sold + n <= total`) and the purchase's insert, and
 * answered 200 with the outcome. Postgres' row lock on the event is the only line.
 */
import { randomUUID } from 'node:crypto';
import {
  findPurchase,
  getPurchaseSchema,
  openBooks,
  purchaseView,
  registerBookRoutes,
  type PurchaseRecord,
} from './books.js';
import { baselineApp, baselineEnv, serve, submitPurchaseSchema } from './http.js';

const env = baselineEnv();
const pool = await openBooks(env.databaseUrl);
const app = baselineApp();
registerBookRoutes(app, pool);

app.post('/events/:id/purchases', { schema: submitPurchaseSchema }, async (request, reply) => {
  const quantity = request.body.quantity ?? 1;
  const { rows } = await pool.query<PurchaseRecord>(
    `with sale as (
       update events set sold = sold + $3 where id = $2 and sold + $3 <= total returning id
     )
     insert into purchases (id, event_id, user_id, quantity, status, processed_at)
     select $1, $2, $4, $3, case when exists (select 1 from sale) then 'confirmed' else 'rejected' end, now()
     returning *`,
    [randomUUID(), request.params.id, quantity, String(request.body.userId)],
  );
  const row = rows[0];
  if (row === undefined) throw new Error('purchase not stored');
  return reply.status(200).send(purchaseView(row));
});

app.get('/purchases/:id', { schema: getPurchaseSchema }, async (request, reply) => {
  const row = await findPurchase(pool, request.params.id);
  if (row === undefined) return reply.status(404).send({ code: 'not_found', message: 'No such purchase' });
  return purchaseView(row);
});

await serve(app, env.port, () => pool.end());
