import type { WebhookEndpointRow, Db } from '@ticketing/shared';

export async function insertEndpoint(
  db: Db,
  endpoint: Pick<WebhookEndpointRow, 'id' | 'url' | 'description' | 'events' | 'secret'>,
): Promise<WebhookEndpointRow> {
  return db.insertInto('webhookEndpoints').values(endpoint).returningAll().executeTakeFirstOrThrow();
}

export async function listEndpoints(db: Db): Promise<WebhookEndpointRow[]> {
  return db.selectFrom('webhookEndpoints').selectAll().orderBy('createdAt').orderBy('id').execute();
}

export async function findEndpoint(db: Db, id: string): Promise<WebhookEndpointRow | undefined> {
  return db.selectFrom('webhookEndpoints').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Its deliveries and attempts go with it; the messages stay for the other endpoints. */
export async function deleteEndpoint(db: Db, id: string): Promise<boolean> {
  const deleted = await db.deleteFrom('webhookEndpoints').where('id', '=', id).executeTakeFirst();
  return deleted.numDeletedRows > 0n;
}

export async function listAttempts(db: Db, endpointId: string, limit: number) {
  return db
    .selectFrom('webhookAttempts as a')
    .innerJoin('webhookMessages as m', 'm.seq', 'a.messageSeq')
    .select([
      'm.id as messageId',
      'm.type',
      'm.subjectId',
      'a.attemptedAt',
      'a.statusCode',
      'a.error',
      'a.durationMs',
    ])
    .where('a.endpointId', '=', endpointId)
    .orderBy('a.id', 'desc')
    .limit(limit)
    .execute();
}
