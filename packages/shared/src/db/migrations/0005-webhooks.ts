import { sql, type Kysely } from 'kysely';

/**
 * Webhooks: the shop's endpoints, an outbox of messages written in the same transaction as the state
 * change they announce, one delivery per message and endpoint, and the attempts made.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('webhook_endpoints')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('url', 'text', (col) => col.notNull().check(sql`url ~ '^https?://'`))
    .addColumn('description', 'text')
    // Null: every type, including those added later.
    .addColumn('events', sql`text[]`)
    .addColumn('secret', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    // Since when every attempt has failed (null: the last one succeeded, or none was made).
    .addColumn('failing_since', 'timestamptz')
    .addColumn('disabled_at', 'timestamptz')
    .addColumn('disabled_reason', 'text')
    .execute();

  await db.schema
    .createTable('webhook_messages')
    // The outbox's order: messages of one purchase (or event) are delivered in this order.
    .addColumn('seq', 'bigint', (col) => col.primaryKey().generatedAlwaysAsIdentity())
    // What receivers see as `webhook-id` and dedupe on.
    .addColumn('id', 'text', (col) => col.notNull().unique())
    .addColumn('type', 'text', (col) => col.notNull())
    // The purchase the message is about (the event, for event messages): the unit of ordering.
    .addColumn('subject_id', 'uuid', (col) => col.notNull())
    // The request body exactly as signed and sent, the same on every attempt.
    .addColumn('body', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    // Set once the message has its deliveries (to the endpoints subscribed when it was relayed).
    .addColumn('relayed_at', 'timestamptz')
    .execute();
  await db.schema
    .createIndex('webhook_messages_unrelayed')
    .on('webhook_messages')
    .column('seq')
    .where(sql.ref('relayed_at'), 'is', null)
    .execute();

  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('endpoint_id', 'uuid', (col) =>
      col.notNull().references('webhook_endpoints.id').onDelete('cascade'),
    )
    .addColumn('message_seq', 'bigint', (col) => col.notNull().references('webhook_messages.seq'))
    .addColumn('subject_id', 'uuid', (col) => col.notNull())
    .addColumn('status', 'text', (col) =>
      col
        .notNull()
        .defaultTo('pending')
        .check(sql`status in ('pending', 'delivered', 'failed', 'abandoned')`),
    )
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('first_attempt_at', 'timestamptz')
    // When its job is due: a pending delivery overdue by much has lost its job (Redis lost it).
    .addColumn('next_attempt_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('completed_at', 'timestamptz')
    .addPrimaryKeyConstraint('webhook_deliveries_pkey', ['endpoint_id', 'message_seq'])
    .execute();
  // The head of each endpoint's line per purchase: the one delivery of it that may be attempted.
  await db.schema
    .createIndex('webhook_deliveries_pending')
    .on('webhook_deliveries')
    .columns(['endpoint_id', 'subject_id', 'message_seq'])
    .where(sql.ref('status'), '=', 'pending')
    .execute();

  await db.schema
    .createTable('webhook_attempts')
    .addColumn('id', 'bigint', (col) => col.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('endpoint_id', 'uuid', (col) =>
      col.notNull().references('webhook_endpoints.id').onDelete('cascade'),
    )
    .addColumn('message_seq', 'bigint', (col) => col.notNull().references('webhook_messages.seq'))
    .addColumn('attempted_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    // The endpoint's answer; null when there was none (refused, timed out, blocked address).
    .addColumn('status_code', 'integer')
    .addColumn('error', 'text')
    .addColumn('duration_ms', 'integer', (col) => col.notNull())
    .execute();
  await db.schema
    .createIndex('webhook_attempts_endpoint')
    .on('webhook_attempts')
    .columns(['endpoint_id', 'id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['webhook_attempts', 'webhook_deliveries', 'webhook_messages', 'webhook_endpoints']) {
    await db.schema.dropTable(table).execute();
  }
}
