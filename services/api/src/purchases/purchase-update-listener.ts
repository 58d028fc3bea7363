import {
  parsePurchaseUpdates,
  purchaseUpdatesChannel,
  type PurchaseUpdate,
  type RedisClient,
} from '@ticketing/shared';

/**
 * Delivers the workers' announcements of decided purchases to the requests long-polling for them, so
 * a waiting request answers from the announcement instead of polling Postgres. One subscriber
 * connection per api process, whatever the number of waiting requests.
 */
export class PurchaseUpdateListener {
  /** Per purchase, the requests waiting for it; `undefined` tells them to look in Postgres. */
  private readonly waiters = new Map<string, Set<(update: PurchaseUpdate | undefined) => void>>();
  private readonly observers: ((update: PurchaseUpdate) => void)[] = [];
  private stopped = false;

  private constructor(private readonly subscriber: RedisClient) {}

  static async start(subscriber: RedisClient, prefix: string): Promise<PurchaseUpdateListener> {
    const listener = new PurchaseUpdateListener(subscriber);
    const channel = purchaseUpdatesChannel(prefix);
    // The connection may carry other channels too (the events' changes).
    subscriber.on('message', (from: string, message: string) => {
      if (from === channel) listener.deliver(message);
    });
    await subscriber.subscribe(channel);
    return listener;
  }

  /** Calls `observer` with every update announced from now on, waited for or not. */
  observe(observer: (update: PurchaseUpdate) => void): void {
    this.observers.push(observer);
  }

  private deliver(message: string): void {
    for (const update of parsePurchaseUpdates(message)) {
      for (const observer of this.observers) observer(update);
      const waiting = this.waiters.get(update.id);
      if (waiting !== undefined) for (const notify of waiting) notify(update);
    }
  }

  /**
   * Starts listening for one purchase before its state is read, so an announcement that lands between
   * the read and the wait is not missed.
   */
  watch(purchaseId: string): PurchaseWatch {
    let latest: PurchaseUpdate | undefined;
    let settle: ((update: PurchaseUpdate | undefined) => void) | undefined;
    const onUpdate = (update: PurchaseUpdate | undefined): void => {
      latest = update;
      settle?.(update);
    };
    let waiting = this.waiters.get(purchaseId);
    if (waiting === undefined) {
      waiting = new Set();
      this.waiters.set(purchaseId, waiting);
    }
    waiting.add(onUpdate);
    return {
      wait: (timeoutMs) =>
        new Promise<PurchaseUpdate | undefined>((resolve) => {
          if (latest !== undefined) {
            resolve(latest);
            latest = undefined;
            return;
          }
          const timer = setTimeout(() => {
            settle = undefined;
            resolve(undefined);
          }, timeoutMs);
          settle = (update) => {
            clearTimeout(timer);
            settle = undefined;
            latest = undefined;
            resolve(update);
          };
        }),
      close: () => {
        settle?.(undefined);
        const current = this.waiters.get(purchaseId);
        current?.delete(onUpdate);
        if (current?.size === 0) this.waiters.delete(purchaseId);
      },
    };
  }

  /** Whether the process is shutting down: long-polls then answer with what they have. */
  get stopping(): boolean {
    return this.stopped;
  }

  /** Wakes every waiting long-poll for good (they read Postgres once more), so shutdown is not held up. */
  stopWaiting(): void {
    this.stopped = true;
    for (const waiting of this.waiters.values()) for (const notify of waiting) notify(undefined);
  }

  /** The subscriber connection, for other listeners of announcements to share. */
  get connection(): RedisClient {
    return this.subscriber;
  }

  /** Wakes every waiting request for good and unsubscribes. */
  async close(): Promise<void> {
    this.stopWaiting();
    await this.subscriber.quit().catch(() => undefined);
  }
}

export interface PurchaseWatch {
  /**
   * Resolves with the next announced update (or at once with one that came since the last wait),
   * or with undefined after the timeout.
   */
  wait(timeoutMs: number): Promise<PurchaseUpdate | undefined>;
  close(): void;
}
