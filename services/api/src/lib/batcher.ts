/**
 * Coalesces concurrent single-item calls into batched calls. Items that arrive while a batch is
 * being flushed wait for the next one, so under load each round trip carries many items, and with
 * no load an item goes out on the next turn of the event loop: no artificial delay.
 */
export interface Batcher<In, Out> {
  submit(item: In): Promise<Out>;
}

export function createBatcher<In, Out>(options: {
  /** Handles a batch; returns one result per item, in order. A thrown error fails every item. */
  run: (items: In[]) => Promise<Out[]>;
  maxBatchSize: number;
  /** Batches in flight at once (each holds, say, a database connection). */
  maxConcurrent: number;
}): Batcher<In, Out> {
  type Pending = { item: In; resolve: (out: Out) => void; reject: (error: unknown) => void };
  let waiting: Pending[] = [];
  let inFlight = 0;
  let scheduled = false;

  const flush = (): void => {
    scheduled = false;
    while (waiting.length > 0 && inFlight < options.maxConcurrent) {
      const batch = waiting.slice(0, options.maxBatchSize);
      waiting = waiting.slice(batch.length);
      inFlight += 1;
      options
        .run(batch.map((pending) => pending.item))
        .then(
          (results) => batch.forEach((pending, index) => pending.resolve(results[index] as Out)),
          (error: unknown) => batch.forEach((pending) => pending.reject(error)),
        )
        .finally(() => {
          inFlight -= 1;
          flush();
        });
    }
  };

  return {
    submit(item) {
      return new Promise<Out>((resolve, reject) => {
        waiting.push({ item, resolve, reject });
        if (!scheduled && inFlight < options.maxConcurrent) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
  };
}
