/**
 * `floor`: one HTTP exchange and nothing else. Fastify with the api's parser, validators and schemas,
 * whose purchase route answers at once with a decided purchase of the same shape, so the load client
 * makes one request per purchase. Its cost per request is the unit the bench's ratios are counted in.
 */
import { randomUUID } from 'node:crypto';
import { baselineApp, baselineEnv, createEventSchema, serve, submitPurchaseSchema } from './http.js';

const app = baselineApp();
app.get('/health', async () => ({ status: 'ok' }));
app.get('/ready', async () => ({ status: 'ok' }));
app.post('/events', { schema: createEventSchema }, async (_request, reply) =>
  reply.status(201).send({ id: randomUUID() }),
);
app.post('/events/:id/purchases', { schema: submitPurchaseSchema }, async (request) => ({
  purchaseId: randomUUID(),
  eventId: request.params.id,
  userId: String(request.body.userId),
  quantity: request.body.quantity ?? 1,
  status: 'confirmed' as const,
  cancellationRequested: false,
  createdAt: new Date().toISOString(),
}));
await serve(app, baselineEnv().port);
