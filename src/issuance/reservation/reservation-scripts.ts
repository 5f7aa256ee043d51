import type { RedisClient } from '../../redis/redis.module';
import { defineFunctions, defineScripts } from '../../redis/scripts';
import type { Refusal } from '../refusal';
import { STOCK_CHANNEL } from '../sold-out/stock-signal';

/**
 * What reserve.lua answers: GRANTED, a unit reserved (REVIVED: a withdrawn request taken up again, queue),
 * or a refusal (the Lua script speaks the same vocabulary).
 */
export type ReservationDecision = 'GRANTED' | 'REVIVED' | Extract<Refusal, 'ALREADY_ISSUED' | 'NOT_OPEN' | 'SOLD_OUT' | 'RATE_LIMITED'>;
/** What give-back.lua answers (see there). */
export type GiveBackStep = 'WITHDRAWING' | 'RETURNING' | 'NOT_HELD';
/** What settle.lua answers for each user written (see there); WAIT is asked again. */
export type SettleOutcome = 'KEEP' | 'WITHDRAWN' | 'ABSENT';

/** A coupon's reservation scripts (src/redis/scripts), as ioredis commands: keys first, then arguments. */
export interface ReservationScripts {
  couponReserve(...keysThenArgs: (string | number)[]): Promise<ReservationDecision | 'MISSING'>;
  couponRelease(...keysThenArgs: (string | number)[]): Promise<number>;
  couponMarkQueued(pending: string, meta: string, jobId: string, ...usersThenExpected: (string | number)[]): Promise<string[]>;
  couponGiveBack(...keysThenArgs: (string | number)[]): Promise<[GiveBackStep | 'MISSING', number?]>;
  couponEndGiveBack(returning: string, userId: number, tombstones: string): Promise<number>;
  couponSettle(...keysThenArgs: (string | number)[]): Promise<(SettleOutcome | 'WAIT')[]>;
  couponRestoreHolder(meta: string, holders: string, pending: string, userId: number): Promise<number>;
  couponKeepUnrecordedWithdrawal(pending: string, withdrawn: string, userId: number, requestStamp: string): Promise<number>;
  couponReleaseOrphan(meta: string, holders: string, pending: string, returning: string, withdrawn: string, userId: number): Promise<number>;
  couponInstall(meta: string, holders: string, staged: string, pending: string, mode: string, ...fieldsThenChunk: string[]): Promise<number>;
  couponUpdateMeta(meta: string, ...fields: string[]): Promise<number>;
  couponGuardChange(meta: string, change: 'total' | 'delete', total?: number): Promise<'ALLOWED' | 'MISSING' | number>;
}

/** The provider token of the loaded scripts (ReservationModule). */
export const RESERVATION_SCRIPTS = Symbol('RESERVATION_SCRIPTS');

/** What every reservation script starts with: the channel it announces stock on, and the shared Lua. */
const PRELUDE = { constants: { STOCK_CHANNEL }, library: ['lib/coupon-clock.lua', 'lib/coupon-server.lua'] };

/**
 * The scripts, by EVALSHA; the reservation, run on every request, as a Redis function instead
 * (defineFunctions), so that it reads the server's run id once per server process, not per
 * request (lib/coupon-server.lua).
 */
export function loadReservationScripts(redis: RedisClient): ReservationScripts {
  const scripts = defineScripts<Omit<ReservationScripts, 'couponReserve'>>(
    redis,
    {
      couponRelease: { file: 'release.lua', keys: 6 },
      couponMarkQueued: { file: 'mark-queued.lua', keys: 2 },
      couponGiveBack: { file: 'give-back.lua', keys: 5 },
      couponEndGiveBack: { file: 'end-give-back.lua', keys: 1 },
      couponSettle: { file: 'settle.lua', keys: 5 },
      couponRestoreHolder: { file: 'restore-holder.lua', keys: 3 },
      couponKeepUnrecordedWithdrawal: { file: 'keep-unrecorded-withdrawal.lua', keys: 2 },
      couponReleaseOrphan: { file: 'release-orphan.lua', keys: 5 },
      couponInstall: { file: 'install-state.lua', keys: 4 },
      couponUpdateMeta: { file: 'update-meta.lua', keys: 1 },
      couponGuardChange: { file: 'guard-change.lua', keys: 1 },
    },
    PRELUDE,
  );
  const functions = defineFunctions<Pick<ReservationScripts, 'couponReserve'>>(redis, { couponReserve: { file: 'reserve.lua', keys: 5 } }, PRELUDE);
  return Object.assign(scripts, functions);
}
