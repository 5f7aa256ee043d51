import { Inject, Injectable } from '@nestjs/common';
import { REDIS, type RedisClient } from '../../redis/redis.module';
import { couponKeys } from './coupon-keys';
import { RESERVATION_SCRIPTS, type ReservationScripts } from './reservation-scripts';

/** A pending request as read: when accepted (ms), its job if it has one yet, and its mark as stored (for compare-and-set). */
export interface PendingRequest {
  acceptedAt: number;
  jobId?: string;
  mark: string;
}

/**
 * The bookkeeping of accepted requests (queue) not yet settled: `coupon:{id}:pending`, user ->
 * `acceptedAt[:jobId]` (reserve.lua records it in the step that reserves; settle.lua, release.lua
 * and restore-holder.lua clear it), and why a settled one was rejected, if it was.
 */
@Injectable()
export class PendingRequests {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(RESERVATION_SCRIPTS) private readonly scripts: ReservationScripts,
  ) {}

  /**
   * Marks pending requests with the job that will write them (`acceptedAt:jobId`, each keeping when
   * it was accepted); where `expected` gives the mark read before (the sweeper), only those whose
   * mark is unchanged (a request settled, withdrawn or asked anew since is left alone). Returns the
   * requests marked, each with its stamp (when accepted): the job carries them alone.
   */
  async markQueued(couponId: number, userIds: number[], jobId: string, expected?: Map<number, string>): Promise<{ userId: number; requestStamp: number }[]> {
    const pairs = userIds.flatMap((u) => [u, expected?.get(u) ?? '']);
    const k = couponKeys(couponId);
    const marked = await this.scripts.couponMarkQueued(k.pending, k.meta, jobId, ...pairs);
    const requests: { userId: number; requestStamp: number }[] = [];
    for (let i = 0; i < marked.length; i += 2) requests.push({ userId: Number(marked[i]), requestStamp: Number(marked[i + 1]) });
    return requests;
  }

  /**
   * `redis`: a reservation whose write ended with its outcome unknown, recorded so that
   * UnsettledWriteRepair decides it from PostgreSQL later (the `queue`'s records are its own).
   */
  async recordUnsettled(couponId: number, userId: number): Promise<void> {
    await this.redis.hset(couponKeys(couponId).pending, String(userId), String(Date.now()));
  }

  /** Accepted requests not yet settled: user id -> when accepted (ms), the job meant to write it (if any yet), the mark. */
  async all(couponId: number): Promise<Map<number, PendingRequest>> {
    const all = await this.redis.hgetall(couponKeys(couponId).pending);
    return new Map(
      Object.entries(all).map(([user, mark]) => {
        const [at, jobId] = mark.split(':');
        return [Number(user), { acceptedAt: Number(at), jobId: jobId || undefined, mark }];
      }),
    );
  }

  /**
   * Each of a job's requests as Redis has it now: `mine` is false for one Redis has settled, or
   * marked with another job (the job redelivered after it was done, or replaced by the sweeper's),
   * whose write would take a unit PostgreSQL must keep for someone else; with no state at all
   * (Redis lost it), every request is the job's, as promised. `acceptedAt`: ms, the coupon's Redis
   * clock (reserve.lua); `mark`, as stored (for compare-and-set). Without `jobId` (a write asked for
   * outside any job), every request is mine.
   */
  async forJob(couponId: number, userIds: number[], jobId?: string): Promise<{ mine: boolean; acceptedAt?: number; mark?: string }[]> {
    if (!userIds.length) return [];
    const k = couponKeys(couponId);
    const [known, marks] = await Promise.all([this.redis.exists(k.meta), this.redis.hmget(k.pending, ...userIds.map(String))]);
    return marks.map((mark) => {
      const [at, markedFor] = mark?.split(':') ?? [];
      return { mine: !jobId || !known || markedFor === jobId, acceptedAt: at ? Number(at) : undefined, mark: mark ?? undefined };
    });
  }

  async count(couponId: number): Promise<number> {
    return this.redis.hlen(couponKeys(couponId).pending);
  }

  async isPending(couponId: number, userId: number): Promise<boolean> {
    return (await this.redis.hexists(couponKeys(couponId).pending, String(userId))) === 1;
  }

  /** Why the user's accepted request was rejected, if it was (kept a day). */
  async rejection(couponId: number, userId: number): Promise<string | null> {
    return this.redis.hget(couponKeys(couponId).rejected, String(userId));
  }

  /**
   * The written request settled as issued, though Redis marks it withdrawn, when PostgreSQL has no
   * record of that withdrawal (keep-unrecorded-withdrawal.lua). False when the mark is gone or the
   * user's pending request is another one by now.
   */
  async keepUnrecordedWithdrawal(couponId: number, userId: number, requestStamp?: number): Promise<boolean> {
    const k = couponKeys(couponId);
    return (await this.scripts.couponKeepUnrecordedWithdrawal(k.pending, k.withdrawn, userId, requestStamp === undefined ? '' : String(requestStamp))) === 1;
  }

  /** A request settled without a row of its own (its row was one its user has given back since). */
  async forget(couponId: number, userId: number): Promise<void> {
    await this.redis.hdel(couponKeys(couponId).pending, String(userId));
  }
}
