import type { Redis } from 'ioredis';
import { settledChannel } from '@ticketing/shared';

/**
 * Wakes long-polling requests when a worker announces that purchases changed state, so a waiting
 * request re-reads Postgres once per change instead of polling it in a loop. One subscriber
 * connection per api process, whatever the number of waiting requests.
 */
export class SettlementListener {
  private readonly waiters = new Map<string, Set<() => void>>();
  private stopping = false;

  private constructor(private readonly subscriber: Redis) {}

  static async start(subscriber: Redis, prefix: string): Promise<SettlementListener> {
    const listener = new SettlementListener(subscriber);
    subscriber.on('message', (_channel: string, message: string) => listener.wake(message));
    await subscriber.subscribe(settledChannel(prefix));
    return listener;
  }

  private wake(message: string): void {
    let ids: unknown;
    try {
      ids = JSON.parse(message);
    } catch {
      return;
    }
    if (!Array.isArray(ids)) return;
    for (const id of ids) {
      const waiting = typeof id === 'string' ? this.waiters.get(id) : undefined;
      if (waiting === undefined) continue;
      for (const announce of waiting) announce();
    }
  }

  /**
   * Starts listening for one purchase before its state is read, so an announcement that lands between
   * the read and the wait is not missed.
   */
  watch(purchaseId: string): PurchaseWatch {
    let announced = false;
    let release: (() => void) | undefined;
    const onAnnouncement = (): void => {
      announced = true;
      release?.();
    };
    let waiting = this.waiters.get(purchaseId);
    if (waiting === undefined) {
      waiting = new Set();
      this.waiters.set(purchaseId, waiting);
    }
    waiting.add(onAnnouncement);
    return {
      wait: (timeoutMs) =>
        new Promise<void>((resolve) => {
          if (announced) {
            announced = false;
            resolve();
            return;
          }
          const timer = setTimeout(() => {
            release = undefined;
            resolve();
          }, timeoutMs);
          release = () => {
            clearTimeout(timer);
            release = undefined;
            announced = false;
            resolve();
          };
        }),
      close: () => {
        release?.();
        const current = this.waiters.get(purchaseId);
        current?.delete(onAnnouncement);
        if (current?.size === 0) this.waiters.delete(purchaseId);
      },
    };
  }

  /** Whether the process is shutting down: long-polls then answer with what they have. */
  get released(): boolean {
    return this.stopping;
  }

  /** Wakes every waiting long-poll for good, so shutdown is not held up by their waits. */
  release(): void {
    this.stopping = true;
    for (const waiting of this.waiters.values()) for (const announce of waiting) announce();
  }

  async close(): Promise<void> {
    this.release();
    await this.subscriber.quit().catch(() => undefined);
  }
}

export interface PurchaseWatch {
  /** Resolves at the next announcement (or at once if one came since the last wait), or after the timeout. */
  wait(timeoutMs: number): Promise<void>;
  close(): void;
}
