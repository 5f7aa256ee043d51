import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable } from '@nestjs/common';
import { unavailable } from '../../common/errors/domain.error';
import { REDIS, type RedisClient } from '../../redis/redis.module';
import { ISSUE_RATE_WINDOW_MS } from '../refusal';
import { couponKeys, requestCountKey } from './coupon-keys';
import { ReservationRebuild } from './reservation-rebuild';
import { latestDeadline, newTombstone, TOMBSTONE_KEPT_MS } from './tombstones';
import type { Written } from './written';
import { GiveBackStep, RESERVATION_SCRIPTS, type ReservationScripts, SettleOutcome, ReservationDecision } from './reservation-scripts';

type ReleaseMode = '' | 'withdrawn' | 'withdrawal-standing' | 'unless-pending';

const SETTLE_RECHECK_MS = 20;
const SETTLE_CHUNK = 5000; // users judged per settle.lua call (its arguments per command)

/**
 * A coupon's stock and holders in Redis, decided atomically by Lua scripts (reserve, release,
 * give back, settle). PostgreSQL stays the truth: a missing or torn state is rebuilt from it
 * (ReservationRebuild) before anything is decided.
 */
@Injectable()
export class ReservationStore {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(RESERVATION_SCRIPTS) private readonly scripts: ReservationScripts,
    private readonly rebuilder: ReservationRebuild,
  ) {}

  /**
   * Reserves one for the user, or says why not; rebuilds a missing state from PostgreSQL first.
   * With `recordPending`, the reservation is also recorded as pending in the same atomic step.
   * With `perSecond` (> 0), the request is counted first, and refused RATE_LIMITED past that many
   * requests of this user for this coupon within a second (counted once, even when rebuilt).
   */
  async reserve(couponId: number, userId: number, { recordPending = false, perSecond = 0 } = {}): Promise<ReservationDecision> {
    const k = couponKeys(couponId);
    const count = requestCountKey(couponId, userId);
    const run = (limit: number) =>
      this.scripts.couponReserve(k.meta, k.holders, k.pending, count, k.withdrawn, userId, Date.now(), recordPending ? '1' : '0', limit, ISSUE_RATE_WINDOW_MS);
    let reply = await run(perSecond);
    if (reply === 'MISSING') {
      await this.rebuilder.rebuild(couponId, 'if-missing');
      reply = await run(0);
    }
    if (reply === 'MISSING') throw unavailable(`reservation state of coupon ${couponId} could not be rebuilt`);
    return reply;
  }

  /**
   * Gives the user's unit back to stock; true when they held one. `rejectedBecause`, for an accepted
   * (queued) request that PostgreSQL refused, is kept for GET /coupons/:id/issue; without it (a
   * give-back) the user ends having asked nothing. Either way the request is no longer pending.
   */
  async release(couponId: number, userId: number, rejectedBecause = ''): Promise<boolean> {
    return (await this.runRelease(couponId, userId, rejectedBecause, '')) === 1;
  }

  /**
   * As release, for the pending request marked `mark` alone (PendingRequests.all): false, and
   * nothing changed, when the user's pending request is another by now (settled, withdrawn, asked anew).
   */
  async releaseIfStill(couponId: number, userId: number, mark: string, rejectedBecause: string): Promise<boolean> {
    return (await this.runRelease(couponId, userId, rejectedBecause, '', 0, mark)) !== -1;
  }

  /**
   * The unit of a withdrawn request goes back, unless its user asked again after withdrawing (then
   * it is theirs again, pending: false). `standingAt` (ms, Redis' clock): a time the withdrawal was
   * known to stand (a later request is a new ask). `onlyWhileStanding`: see release.lua's modes.
   */
  async releaseWithdrawn(couponId: number, userId: number, standingAt: number, { onlyWhileStanding = false } = {}): Promise<boolean> {
    return (await this.runRelease(couponId, userId, '', onlyWhileStanding ? 'withdrawal-standing' : 'withdrawn', standingAt)) !== -1;
  }

  /**
   * The unit of a user whose row has just left PostgreSQL, though Redis may not have listed them
   * when the give-back began (it had forgotten them, and a writer listed them again meanwhile);
   * left alone while they have a request pending, which the unit now belongs to.
   */
  async releaseUnlessPending(couponId: number, userId: number): Promise<void> {
    await this.runRelease(couponId, userId, '', 'unless-pending');
  }

  /** release.lua: 1 released, 0 nothing held, -1 left alone by the mode (ReleaseMode, see there). */
  private runRelease(couponId: number, userId: number, why: string, mode: ReleaseMode, standingAt = 0, mark = ''): Promise<number> {
    const k = couponKeys(couponId);
    return this.scripts.couponRelease(k.meta, k.holders, k.pending, k.rejected, k.withdrawn, k.returning, userId, why, mode, standingAt, mark);
  }

  /**
   * The first step of a give-back, before PostgreSQL: withdraw a pending request (when
   * `withdrawPending`), or stand a tombstone for a holder until `endGiveBack` or `release`.
   * `tombstone` names this give-back's own (RETURNING; tombstones.ts); `withdrawnAt` is the
   * withdrawal's moment on the coupon's Redis clock (give-back.lua). A missing state is rebuilt
   * from PostgreSQL first: a holder is never judged NOT_HELD by a state that lists no one.
   */
  async beginGiveBack(
    couponId: number,
    userId: number,
    opts: { withdrawPending: boolean },
  ): Promise<{ step: GiveBackStep; tombstone: string; withdrawnAt: number }> {
    const k = couponKeys(couponId);
    const tombstone = newTombstone();
    const run = () =>
      this.scripts.couponGiveBack(
        k.holders,
        k.pending,
        k.withdrawn,
        k.returning,
        k.meta,
        userId,
        tombstone,
        Date.now(),
        opts.withdrawPending ? '1' : '0',
        TOMBSTONE_KEPT_MS,
      );
    let [step, at] = await run();
    if (step === 'MISSING') {
      await this.rebuilder.rebuild(couponId, 'if-missing'); // 404 for a coupon that does not exist
      [step, at] = await run();
    }
    if (step === 'MISSING') throw unavailable(`reservation state of coupon ${couponId} could not be rebuilt`);
    return { step, tombstone, withdrawnAt: Number(at ?? 0) };
  }

  /**
   * A give-back that PostgreSQL refused (or could not run): the holder keeps their unit. Only the
   * tombstones named go (space-separated): the give-back's own, or those the repair found expired.
   */
  async endGiveBack(couponId: number, userId: number, tombstones: string): Promise<void> {
    await this.scripts.couponEndGiveBack(couponKeys(couponId).returning, userId, tombstones);
  }

  /**
   * Users whose give-backs under way are all past their deadline (their callers died, or are very
   * late): user -> their tombstones, as they stand.
   */
  async expiredGiveBacks(couponId: number, now = Date.now()): Promise<Map<number, string>> {
    const all = await this.redis.hgetall(couponKeys(couponId).returning);
    return new Map(
      Object.entries(all)
        .filter(([, tombstones]) => latestDeadline(tombstones) < now)
        .map(([user, tombstones]) => [Number(user), tombstones] as const),
    );
  }

  /** A holder of a row whom Redis forgot is listed (and counted) again; their request is settled. */
  async restoreHolder(couponId: number, userId: number): Promise<void> {
    const k = couponKeys(couponId);
    await this.scripts.couponRestoreHolder(k.meta, k.holders, k.pending, userId);
  }

  /** A withdrawal that came too late (the coupon was redeemed): the request is settled as issued. */
  async forgetWithdrawal(couponId: number, userId: number): Promise<void> {
    const k = couponKeys(couponId);
    await this.redis.multi().hdel(k.pending, String(userId)).srem(k.withdrawn, String(userId)).exec();
  }

  /**
   * After a writer's commit: which users keep their coupon (settled, no longer pending), and which
   * rows must be taken back (settle.lua; `withdrawnAt`: a withdrawal PostgreSQL recorded since the request). A user whose give-back is under way is asked again until
   * it has ended, so the outcome follows what the give-back did.
   */
  async settle(couponId: number, written: (Written & { withdrawnAt?: number })[]): Promise<SettleOutcome[]> {
    const k = couponKeys(couponId);
    const outcomes: (SettleOutcome | 'WAIT')[] = new Array(written.length).fill('WAIT');
    for (;;) {
      const open = written.map((w, i) => ({ ...w, i })).filter(({ i }) => outcomes[i] === 'WAIT');
      if (!open.length) return outcomes as SettleOutcome[];
      for (let from = 0; from < open.length; from += SETTLE_CHUNK) {
        const chunk = open.slice(from, from + SETTLE_CHUNK);
        const quads = chunk.flatMap((w) => [w.userId, w.inserted ? '1' : '0', w.withdrawnAt ?? 0, w.requestStamp ?? '']);
        const replies = await this.scripts.couponSettle(k.meta, k.holders, k.pending, k.withdrawn, k.returning, Date.now(), ...quads);
        chunk.forEach((w, j) => (outcomes[w.i] = replies[j]));
      }
      if (outcomes.includes('WAIT')) await sleep(SETTLE_RECHECK_MS);
    }
  }

  async isHolder(couponId: number, userId: number): Promise<boolean> {
    return (await this.redis.sismember(couponKeys(couponId).holders, String(userId))) === 1;
  }

  /** Reservations held in Redis (issued or in flight), or null when no state is installed. */
  async taken(couponId: number): Promise<number | null> {
    const taken = await this.redis.hget(couponKeys(couponId).meta, 'taken');
    return taken === null ? null : Number(taken);
  }

  /**
   * The coupon's holders (reserved, pending or written), when there are at most `atMost`; for the
   * sold-out flag, which answers everyone else SOLD_OUT in the process.
   */
  async holdersIfAtMost(couponId: number, atMost: number): Promise<Set<number> | undefined> {
    const { holders } = couponKeys(couponId);
    if ((await this.redis.scard(holders)) > atMost) return undefined;
    return new Set((await this.redis.smembers(holders)).map(Number));
  }
}
