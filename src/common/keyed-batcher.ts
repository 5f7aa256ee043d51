/** One item's result from a flush: its value, or the error that item (alone) gets. */
export type ItemResult<Out> = { ok: true; value: Out } | { ok: false; error: Error };

export interface KeyedBatcherOptions {
  /** Items handed to one flush at most. */
  maxBatch: number;
  /** Items waiting per key at most; beyond, submit fails at once with overflow(). */
  maxQueued: number;
  overflow: () => Error;
}

interface Waiting<In, Out> {
  item: In;
  resolve: (value: Out) => void;
  reject: (error: Error) => void;
}

/**
 * Group commit per key. A key runs at most one flush at a time; items submitted while it runs
 * wait and go together into the next flush. An idle key flushes at once, so nothing waits for a
 * timer, and batches grow exactly as fast as load does. A flush that throws fails its whole
 * batch, and only that batch.
 */
export class KeyedBatcher<K, In, Out> {
  private readonly lanes = new Map<K, Waiting<In, Out>[]>();

  constructor(
    private readonly flush: (key: K, items: In[]) => Promise<ItemResult<Out>[]>,
    private readonly options: KeyedBatcherOptions,
  ) {}

  submit(key: K, item: In): Promise<Out> {
    const lane = this.lanes.get(key);
    if (lane && lane.length >= this.options.maxQueued) return Promise.reject(this.options.overflow());
    return new Promise<Out>((resolve, reject) => {
      if (lane) {
        lane.push({ item, resolve, reject });
        return;
      }
      const fresh = [{ item, resolve, reject }];
      this.lanes.set(key, fresh);
      void this.drain(key, fresh);
    });
  }

  private async drain(key: K, lane: Waiting<In, Out>[]): Promise<void> {
    // The lane stays registered (so new items queue behind) until it is empty; there is no await
    // between the emptiness check and the delete, so no item can slip in unseen.
    while (lane.length) {
      const batch = lane.slice(0, this.options.maxBatch);
      try {
        const results = await this.flush(
          key,
          batch.map((w) => w.item),
        );
        batch.forEach((w, i) => {
          const result = results[i];
          if (result?.ok) w.resolve(result.value);
          else w.reject(result?.error ?? new Error('batch flush returned no result for an item'));
        });
      } catch (error) {
        for (const w of batch) w.reject(error as Error);
      }
      lane.splice(0, batch.length);
    }
    this.lanes.delete(key);
  }
}
