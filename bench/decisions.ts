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
  private readonly onFirst: (() => void)[] = [];

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
    });
    await subscriber.subscribe(purchaseUpdatesChannel(system.queuePrefix));
    return watch;
  }

  /** Resolves at the first announced decision. */
  first(): Promise<void> {
    if (this.firstAt !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.onFirst.push(resolve));
  }

  /** Waits until `expected` decisions were announced, or Postgres has nothing queued. */
  async until(system: BenchSystem, expected: number): Promise<void> {
    let lastCheck = 0;
    for (;;) {
      const now = performance.now();
      if (this.decided >= expected || now - lastCheck > 1_000) {
        lastCheck = now;
        const [row] = await system.query<{ queued: number }>(
          "select count(*)::int as queued from purchases where status = 'queued'",
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
