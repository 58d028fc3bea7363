import { sleep } from '@ticketing/harness';

export interface LoadPlan {
  readonly events: readonly string[];
  readonly purchases: number;
  /** Buyers in flight at once. */
  readonly concurrency: number;
  /** Paces the start of purchases (per second over all buyers), so faults land during the run. */
  readonly ratePerSecond?: number;
}

export interface Accepted {
  readonly purchaseId: string;
  readonly eventId: string;
}

const RETRY_FOR_MS = 180_000;
const REQUEST_TIMEOUT_MS = 15_000;
/** Every so many buyers send their accepted purchase a second time, with the same key. */
const RESEND_EVERY = 10;

/**
 * Buyers as the issue describes real ones under a bad minute: each purchase has its own
 * Idempotency-Key and is retried with it on every 503, 429, 5xx, timeout or dropped connection until
 * it gets a 202. Records every 202 (and notices a key answered with two different purchases).
 */
export class Buyers {
  /** Idempotency key → what the 202 said. */
  readonly accepted = new Map<string, Accepted>();
  /** Keys whose second 202 named another purchase than the first: a double booking in the making. */
  duplicated = 0;
  /** Responses other than 202 (by status, or `network`), and how long each 503 took to come back. */
  readonly refusals = new Map<string, number>();
  readonly unavailableLatencyMs: number[] = [];
  /** 4xx answers that retrying cannot fix (a bug under this load): the purchase is given up. */
  readonly rejected: string[] = [];
  startedAt = 0;
  finishedAt = 0;
  private readonly waiters: { count: number; resolve: () => void }[] = [];

  constructor(
    private readonly baseUrl: () => string,
    private readonly plan: LoadPlan,
    private readonly tag = `b${Date.now().toString(36)}`,
  ) {}

  /** Resolves once this many purchases have been accepted. */
  reached(count: number): Promise<void> {
    if (this.accepted.size >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  async run(): Promise<this> {
    this.startedAt = Date.now();
    let next = 0;
    const lane = async (): Promise<void> => {
      for (;;) {
        const index = next++;
        if (index >= this.plan.purchases) return;
        const due = this.startedAt + (this.plan.ratePerSecond ? (index * 1000) / this.plan.ratePerSecond : 0);
        if (due > Date.now()) await sleep(due - Date.now());
        await this.buy(index);
      }
    };
    await Promise.all(Array.from({ length: this.plan.concurrency }, lane));
    this.finishedAt = Date.now();
    return this;
  }

  private async buy(index: number): Promise<void> {
    const eventId = this.plan.events[index % this.plan.events.length] ?? '';
    const key = `${this.tag}-${index}`;
    const body = JSON.stringify({ userId: `${this.tag}-user-${index}`, quantity: 1 });
    const purchaseId = await this.submit(eventId, key, body);
    if (purchaseId === undefined) return;
    this.accept(key, eventId, purchaseId);
    // Some buyers never saw their 202 (a proxy timed out, say) and send it all again.
    if (index % RESEND_EVERY === 0) {
      const again = await this.submit(eventId, key, body);
      if (again !== undefined && again !== purchaseId) this.duplicated += 1;
    }
  }

  /** Sends one purchase until it is accepted; its purchase id, or undefined if it was given up. */
  private async submit(eventId: string, key: string, body: string): Promise<string | undefined> {
    const giveUpAt = Date.now() + RETRY_FOR_MS;
    for (let attempt = 0; ; attempt += 1) {
      const sent = Date.now();
      let outcome: string;
      try {
        const response = await fetch(`${this.baseUrl()}/events/${eventId}/purchases`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': key },
          body,
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        const text = await response.text();
        if (response.status === 202) return (JSON.parse(text) as { purchaseId: string }).purchaseId;
        outcome = String(response.status);
        if (response.status === 503) this.unavailableLatencyMs.push(Date.now() - sent);
        if (response.status >= 400 && response.status < 500 && response.status !== 429) {
          this.rejected.push(`${key}: ${response.status} ${text.slice(0, 200)}`);
          this.count(outcome);
          return undefined;
        }
      } catch {
        outcome = 'network';
      }
      this.count(outcome);
      if (Date.now() > giveUpAt) {
        this.rejected.push(`${key}: still ${outcome} after ${RETRY_FOR_MS} ms`);
        return undefined;
      }
      await sleep(Math.min(50 * 2 ** attempt, 1_000));
    }
  }

  private count(outcome: string): void {
    this.refusals.set(outcome, (this.refusals.get(outcome) ?? 0) + 1);
  }

  private accept(key: string, eventId: string, purchaseId: string): void {
    this.accepted.set(key, { purchaseId, eventId });
    for (const waiter of [...this.waiters]) {
      if (this.accepted.size < waiter.count) continue;
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }
}
