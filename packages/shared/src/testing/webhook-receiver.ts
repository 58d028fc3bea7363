import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Checks a delivery's signature (a Standard Webhooks `Webhook#verify`); throws when it is not valid. */
export type SignatureCheck = (body: string, headers: Record<string, string>) => unknown;

export interface ReceivedMessage {
  readonly id: string;
  readonly type: string;
  readonly data: Record<string, unknown>;
  readonly timestamp: string;
}

/**
 * A shop's webhook endpoint for tests: it verifies every request's signature, fails the first
 * `failAttempts` attempts of every message (alternating a 500 and a dropped connection; a number, or
 * one per message type, so that a later message may be ready before an earlier one), answers after
 * `delayMs` (so deliveries are in flight when a test crashes a worker), and keeps
 * the messages it accepted, in the order it accepted them, once each (deduplicated on `webhook-id`,
 * as the specification asks receivers to).
 */
export class WebhookReceiver {
  /** Every message accepted, first acceptance only, in order. */
  readonly accepted: ReceivedMessage[] = [];
  /** How many requests came, and how many of them were repeats of an accepted message. */
  requests = 0;
  duplicates = 0;
  /** Requests being answered right now: a sender that dies meanwhile never learns the outcome. */
  inFlight = 0;
  /** Requests whose signature did not verify (a test expects none). */
  readonly badSignatures: string[] = [];
  private readonly attempts = new Map<string, number>();
  private readonly acceptedIds = new Set<string>();
  private check: SignatureCheck | undefined;

  private constructor(
    private readonly server: Server,
    private readonly failAttempts: (type: string) => number,
    private readonly delayMs: number,
  ) {}

  static async start(options: {
    failAttempts: number | ((type: string) => number);
    delayMs?: number;
  }): Promise<WebhookReceiver> {
    const { failAttempts } = options;
    // Idle connections stay open for the whole test, so a sender's kept-alive connection is never
    // closed under it (which would be a failed attempt the test did not plan).
    const server = createServer({ keepAliveTimeout: 120_000 });
    const receiver = new WebhookReceiver(
      server,
      typeof failAttempts === 'number' ? () => failAttempts : failAttempts,
      options.delayMs ?? 0,
    );
    server.on('request', (request, response) => {
      receiver.inFlight += 1;
      void receiver
        .handle(request)
        .finally(() => {
          receiver.inFlight -= 1;
        })
        .then(
          (status) => {
            if (status === 'drop') request.socket.destroy();
            else response.writeHead(status).end();
          },
          () => response.writeHead(500).end(),
        );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  /** The signature check, once the endpoint's secret is known (registration returns it). */
  verifyWith(check: SignatureCheck): void {
    this.check = check;
  }

  /** The accepted messages about one purchase (or event), in the order they were accepted. */
  about(subjectId: string): ReceivedMessage[] {
    return this.accepted.filter(
      (message) =>
        message.data.purchaseId === subjectId ||
        (message.type.startsWith('event.') && message.data.eventId === subjectId),
    );
  }

  private async handle(request: IncomingMessage): Promise<number | 'drop'> {
    this.requests += 1;
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    const headers = Object.fromEntries(
      Object.entries(request.headers).map(([name, value]) => [name, String(value)]),
    );
    const id = headers['webhook-id'] ?? '';
    try {
      if (this.check === undefined) throw new Error('no secret to verify with yet');
      this.check(body, headers);
    } catch (error) {
      this.badSignatures.push(`${id}: ${String(error)}`);
      return 400;
    }
    const payload = JSON.parse(body) as Omit<ReceivedMessage, 'id'>;
    const attempt = (this.attempts.get(id) ?? 0) + 1;
    this.attempts.set(id, attempt);
    if (attempt <= this.failAttempts(payload.type)) return attempt % 2 === 1 ? 500 : 'drop';
    if (this.acceptedIds.has(id)) {
      this.duplicates += 1;
      return 200;
    }
    this.acceptedIds.add(id);
    this.accepted.push({ id, type: payload.type, data: payload.data, timestamp: payload.timestamp });
    return 204;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
