import calculateSlot from 'cluster-key-slot';
import { QueueShards } from '../../src/issuance/queue/queue-shards';

/** The slot of a BullMQ prefix: the hash tag between its braces. */
const slotOf = (prefix: string) => calculateSlot(prefix.slice(1, -1));
const rangeOf = (slot: number, count: number) => Math.floor((slot * count) / 16_384);

describe('QueueShards', () => {
  it('one shard: {coupon-issue-0}, every coupon on it', () => {
    const shards = new QueueShards(1);
    expect(shards.prefixes).toEqual(['{coupon-issue-0}']);
    for (let id = 1; id < 200; id++) expect(shards.of(id)).toBe(0);
  });

  it.each([2, 3, 4, 6, 16, 64])(
    '%i shards: each prefix hashes into its own range of slots, and a coupon goes to the shard whose range holds its slot',
    (count) => {
      const shards = new QueueShards(count);
      expect(new Set(shards.prefixes).size).toBe(count);
      shards.prefixes.forEach((prefix, k) => {
        expect(prefix).toMatch(new RegExp(`^\\{coupon-issue-${k}(-\\d+)?\\}$`));
        expect(rangeOf(slotOf(prefix), count)).toBe(k);
      });
      const used = new Set<number>();
      for (let id = 1; id <= 2000; id++) {
        const k = shards.of(id);
        used.add(k);
        expect(rangeOf(calculateSlot(String(id)), count)).toBe(rangeOf(slotOf(shards.prefixOf(id)), count));
      }
      expect(used.size).toBe(count); // coupons spread over every shard
    },
  );
});
