import { sleep, waitFor } from '@ticketing/harness';
import { WebhookReceiver } from '@ticketing/shared/testing';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { afterAll, describe, expect, it } from 'vitest';
import { useFaultSystem } from './support/fault-system.js';
import { randomBetween, runScenario } from './support/scenario.js';

const PURCHASES = 1_500;
const KILLS = 10;
const CANCELLATIONS = 150;
const faultSystem = useFaultSystem({
  workers: 2,
  env: { WEBHOOK_RETRY_BASE_MS: '200', WEBHOOK_RETRY_MAX_DELAY_MS: '1000' },
});
// Slow to answer (so deliveries are in flight when a worker dies) and failing each first attempt.
const receiverStarted = WebhookReceiver.start({ failAttempts: 1, delayMs: 100 });
afterAll(async () => {
  await (await receiverStarted).close();
});

interface OutboxMessage {
  readonly id: string;
  readonly type: string;
  readonly subjectId: string;
}

describe('webhooks through worker crashes', () => {
  it('when workers are killed -9 mid-delivery during an on-sale with cancellations, then every committed message reaches the shop, in order per purchase', async () => {
    const system = faultSystem();
    const receiver = await receiverStarted;
    const registered = await fetch(`${system.url}/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: receiver.url }),
    });
    expect(registered.status).toBe(201);
    const webhook = new Webhook(((await registered.json()) as { secret: string }).secret);
    receiver.verifyWith((body, headers) => webhook.verify(body, headers));

    let kills = 0;
    let cancelled = 0;
    const result = await runScenario(system, {
      name: `webhooks: kill -9 a worker ×${KILLS} mid-delivery (2 workers, ${CANCELLATIONS} cancellations)`,
      events: 3,
      ticketsPerEvent: 300,
      load: { purchases: PURCHASES, concurrency: 32, ratePerSecond: 250 },
      fifo: false,
      faults: async (buyers) => {
        const killing = (async () => {
          while (kills < KILLS) {
            await sleep(randomBetween(400, 1_200));
            // Mid-delivery: while the receiver is answering a worker's request.
            await waitFor('a delivery in flight', async () => receiver.inFlight > 0, 60_000, 5);
            const started = await system.startedWorkers();
            const victim = started[Math.floor(Math.random() * started.length)];
            if (victim === undefined) continue;
            victim.signal('SIGKILL');
            await victim.exited;
            await system.replaceWorker(victim);
            kills += 1;
          }
        })();
        // Cancellations while the sale runs: a purchase's cancellation (and the promotion it causes)
        // is often committed before its first message got through.
        await buyers.reached(PURCHASES / 2);
        for (const { purchaseId } of [...buyers.accepted.values()].slice(0, CANCELLATIONS)) {
          for (;;) {
            const response = await fetch(`${system.url}/purchases/${purchaseId}/cancel`, { method: 'POST' });
            // Only a 503 (a backing service away) is worth retrying.
            if (response.status !== 503) {
              expect(response.status, purchaseId).toBe(202);
              break;
            }
            await sleep(200);
          }
          cancelled += 1;
        }
        await killing;
        return `${kills} workers killed while a delivery was in flight, and restarted; ${cancelled} purchases cancelled`;
      },
    });
    expect(result.violations).toEqual([]);
    expect(kills).toBe(KILLS);

    // Every message the outbox holds, which is every change committed: each must reach the receiver.
    const db = new pg.Pool({ connectionString: system.postgres.databaseUrl, max: 2 });
    try {
      // Purchases are final; cancellations may still be carried out.
      await waitFor('every cancellation carried out', async () => {
        const { rows } = await db.query<{ pending: number }>(
          `select count(*)::int as pending from purchases where cancel_requested_at is not null and status <> 'cancelled'`,
        );
        return rows[0]?.pending === 0;
      });
      const { rows: outbox } = await db.query<OutboxMessage>(
        'select id, type, subject_id as "subjectId" from webhook_messages order by seq',
      );
      expect(outbox.length).toBeGreaterThan(PURCHASES);
      await waitFor(
        'every committed message accepted by the receiver',
        async () => {
          const accepted = new Set(receiver.accepted.map((message) => message.id));
          return outbox.every((message) => accepted.has(message.id));
        },
        120_000,
        500,
      );
      expect(receiver.badSignatures).toEqual([]);
      // Some kill caught a worker whose message the receiver took but who died before it heard so:
      // the message came again, and was recognised by its id.
      expect(receiver.duplicates).toBeGreaterThan(0);
      // Nothing the outbox does not hold, and each message once after dedupe.
      expect(receiver.accepted.map((message) => message.id).sort()).toEqual(
        outbox.map((message) => message.id).sort(),
      );
      // Per purchase (and per event), in the order committed.
      const position = new Map(receiver.accepted.map((message, index) => [message.id, index]));
      const bySubject = new Map<string, number[]>();
      for (const message of outbox) {
        bySubject.set(message.subjectId, [
          ...(bySubject.get(message.subjectId) ?? []),
          position.get(message.id) ?? -1,
        ]);
      }
      const outOfOrder = [...bySubject].filter(([, positions]) =>
        positions.some((at, index) => index > 0 && at < (positions[index - 1] ?? 0)),
      );
      expect(outOfOrder).toEqual([]);
      // Each purchase's last message is the state Postgres holds.
      const { rows: purchases } = await db.query<{ id: string; status: string }>(
        'select id, status from purchases',
      );
      const lastStatus = new Map<string, unknown>();
      for (const message of receiver.accepted) {
        if (typeof message.data.purchaseId === 'string')
          lastStatus.set(message.data.purchaseId, message.data.status);
      }
      expect(purchases.filter((purchase) => lastStatus.get(purchase.id) !== purchase.status)).toEqual([]);
      expect(outbox.filter((message) => message.type === 'purchase.cancelled').length).toBe(cancelled);
      console.log(
        `webhooks: ${outbox.length} messages, ${receiver.requests} requests, ${receiver.duplicates} repeats of an accepted message (deduplicated)`,
      );
    } finally {
      await db.end();
    }
  });
});
