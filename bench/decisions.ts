import type { RedisClient } from '../packages/shared/src/index.js';
import { createRedis, parsePurchaseUpdates, purchaseUpdatesChannel } from '../packages/shared/src/index.js';
import type { BenchSystem } from './bench-types.js';

/**
 * Counts the purchase updates the workers announce, to time a drain from its first decision to its
 * last without polling. Postgres has the last word: a drain is only over when none is queued there.
 */
export class DecisionWatch {
  decided = 0;
  firstAt: number | undefined;
  lastAt = 0;
  /** When the count given to `reached` was reached. */
  reachedAt: number | undefined;
  private readonly onFirst: (() => void)[] = [];
  private target: { count: number; resolve: () => void } | undefined;

  private constructor(private readonly subscriber: RedisClient) {}

  static async start(system: BenchSystem): Promise<DecisionWatch> {
    const subscriber = createRedis(system.redisUrl, 'subscriber');
    const watch = new DecisionWatch(subscriber);
    subscriber.on('message', (_channel: string, message: string) => {
      const now = performance.now();
      watch.decided += parsePurchaseUpdates(message).length;
      watch.lastAt = now;
      if (watch.firstAt === undefined) {
        watch.firstAt = now;
        for (const listener of watch.onFirst.splice(0)) listener();
      }
      if (watch.target !== undefined && watch.decided >= watch.target.count) {
        watch.reachedAt = now;
        watch.target.resolve();
        watch.target = undefined;
      }
    });
    await subscriber.subscribe(purchaseUpdatesChannel(system.queuePrefix));
    return watch;
  }

  /** Resolves at the first announced decision. */
  first(): Promise<void> {
    if (this.firstAt !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.onFirst.push(resolve));
  }

  /** Resolves once `count` decisions were announced (`reachedAt` says when). */
  reached(count: number): Promise<void> {
    if (this.decided >= count) {
      this.reachedAt ??= this.lastAt;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.target = { count, resolve };
    });
  }

  /** Waits until `expected` decisions were announced, or Postgres has nothing queued or pre-queued. */
  async until(system: BenchSystem, expected: number): Promise<void> {
    let lastCheck = 0;
    for (;;) {
      const now = performance.now();
      if (this.decided >= expected || now - lastCheck > 1_000) {
        lastCheck = now;
        const [row] = await system.query<{ queued: number }>(
          "select count(*)::int as queued from purchases where status in ('queued', 'prequeued')",
        );
        if (row?.queued === 0) return;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  close(): void {
    this.subscriber.disconnect();
  }
}
