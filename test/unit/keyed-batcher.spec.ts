import { ItemResult, KeyedBatcher } from '../../src/common/keyed-batcher';
import { decideBatch } from '../../src/issuance/issuable';

describe('KeyedBatcher', () => {
  const ok = <T>(value: T): ItemResult<T> => ({ ok: true, value });

  it('flushes an idle key at once, and groups what arrives meanwhile into the next flush', async () => {
    const flushes: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const batcher = new KeyedBatcher<string, number, number>(
      async (_, items) => {
        flushes.push(items);
        if (flushes.length === 1) await gate;
        return items.map((i) => ok(i * 10));
      },
      { maxBatch: 100, maxQueued: 4, overflow: () => new Error('full') },
    );
    const first = batcher.submit('a', 1);
    const rest = [2, 3, 4].map((i) => batcher.submit('a', i));
    const other = batcher.submit('b', 9); // another key is not held up by 'a'
    await expect(other).resolves.toBe(90);
    // 'a' holds 4 now (1 being flushed, 3 waiting): its limit of 4 refuses a fifth
    await expect(batcher.submit('a', 5)).rejects.toThrow('full');
    release();
    await expect(first).resolves.toBe(10);
    await expect(Promise.all(rest)).resolves.toEqual([20, 30, 40]);
    expect(flushes).toEqual([[1], [9], [2, 3, 4]]);
    // nothing is left held for 'a': it takes 4 again, flushed at once as the idle key it is
    await expect(Promise.all([6, 7, 8, 9].map((i) => batcher.submit('a', i)))).resolves.toEqual([60, 70, 80, 90]);
    expect(flushes.slice(3)).toEqual([[6], [7, 8, 9]]);
  });

  it('caps batches at maxBatch, refuses past maxQueued, and fails only the batch whose flush threw', async () => {
    const sizes: number[] = [];
    const batcher = new KeyedBatcher<string, number, number>(
      async (_, items) => {
        sizes.push(items.length);
        if (items.includes(3)) throw new Error('boom');
        return items.map((i) => (i === 5 ? { ok: false, error: new Error('just me') } : ok(i)));
      },
      { maxBatch: 2, maxQueued: 6, overflow: () => new Error('full') },
    );
    const all = [1, 2, 3, 4, 5, 6].map((i) =>
      batcher.submit('k', i).then(
        (v) => `ok ${v}`,
        (e: Error) => e.message,
      ),
    );
    const refused = await batcher.submit('k', 7).catch((e: Error) => e.message);
    expect(refused).toBe('full');
    expect(await Promise.all(all)).toEqual(['ok 1', 'boom', 'boom', 'ok 4', 'just me', 'ok 6']);
    expect(sizes).toEqual([1, 2, 2, 1]); // [1] alone, then [2,3] (3 throws), [4,5], [6]
  });
});

describe('decideBatch', () => {
  const open = { status: 'ACTIVE' as const, starts_at: null, ends_at: null, total_quantity: 3, issued_quantity: 1 };

  it('serves in arrival order until stock runs out; holders and repeats are told ALREADY_ISSUED', () => {
    expect(decideBatch(open, [10, 11, 10, 12, 13, 12], new Set([11]))).toEqual([
      'GRANTED',
      'ALREADY_ISSUED',
      'ALREADY_ISSUED',
      'GRANTED',
      'SOLD_OUT',
      'ALREADY_ISSUED',
    ]);
  });

  it('gives a repeat of a refused user the same refusal', () => {
    const full = { ...open, issued_quantity: 3 };
    expect(decideBatch(full, [10, 10], new Set())).toEqual(['SOLD_OUT', 'SOLD_OUT']);
  });

  it('refuses a closed coupon (NOT_OPEN) and a missing coupon (COUPON_NOT_FOUND)', () => {
    expect(decideBatch({ ...open, status: 'PAUSED' }, [10], new Set())).toEqual(['NOT_OPEN']);
    expect(decideBatch({ ...open, starts_at: new Date(Date.now() + 60_000) }, [10], new Set())).toEqual(['NOT_OPEN']);
    expect(decideBatch(undefined, [10, 11], new Set())).toEqual(['COUPON_NOT_FOUND', 'COUPON_NOT_FOUND']);
  });
});
