import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { couponNotFound, DomainError, unavailable } from '../../common/errors/domain.error';
import { ErrorCode } from '../../common/errors/error-code';
import type { CouponEntity } from '../../coupons/coupon.entity';
import type { CouponChange, CouponsService } from '../../coupons/coupons.service';
import { ADVISORY_LOCK } from '../../database/advisory-locks';
import { epochMs } from '../../database/sql-time';
import { REDIS, type RedisClient } from '../../redis/redis.module';
import { STOCK_CHANNEL } from '../sold-out/stock-signal';
import { couponKeys } from './coupon-keys';
import { RESERVATION_SCRIPTS, type ReservationScripts } from './reservation-scripts';

/** Holders are staged in chunks this big (SADD arguments per command; install-state.lua uses it too). */
const STAGE_CHUNK = 5000;

const msOrEmpty = (d: Date | null) => (d ? String(d.getTime()) : '');
const couponFields = (c: Pick<CouponEntity, 'totalQuantity' | 'status' | 'startsAt' | 'endsAt' | 'version'>) => [
  String(c.totalQuantity),
  c.status,
  msOrEmpty(c.startsAt),
  msOrEmpty(c.endsAt),
  String(c.version),
];

/**
 * A coupon's Redis state made from PostgreSQL, the truth: built when missing or torn (fail
 * closed: a missing state is never read as stock), replaced by reconcile (which keeps requests
 * still pending, so their units are not handed to someone else), and kept in step with admin
 * changes (refusing those that would take back a promise).
 */
@Injectable()
export class ReservationRebuild {
  private readonly logger = new Logger(ReservationRebuild.name);
  /** Lazy rebuilds under way in this process, by coupon. */
  private readonly rebuilding = new Map<number, Promise<void>>();

  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(RESERVATION_SCRIPTS) private readonly scripts: ReservationScripts,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  /** Follows the coupons' admin changes, and guards those that could take back a promise. */
  keepInStepWith(coupons: CouponsService): void {
    coupons.onChange((change) => this.follow(change));
    coupons.guardChanges({
      beforeTotal: (couponId, total) => this.guardChange(couponId, { total }),
      beforeDelete: (couponId) => this.guardChange(couponId, 'delete'),
    });
  }

  /**
   * Loads the coupon and its holders from PostgreSQL (no write committing meanwhile, see load),
   * stages the holders under a key of its own, then swaps everything in with one script. 'if-missing' keeps a sound
   * state that another process installed meanwhile; 'replace' makes PostgreSQL's truth win.
   */
  async rebuild(couponId: number, mode: 'if-missing' | 'replace'): Promise<void> {
    if (mode === 'replace') return this.load(couponId, mode);
    // requests that find the state missing at once wait for one rebuild, not one each (a coupon
    // that does not exist costs one transaction per wave of requests, not one per request)
    let running = this.rebuilding.get(couponId);
    if (!running) {
      running = this.load(couponId, mode).finally(() => this.rebuilding.delete(couponId));
      this.rebuilding.set(couponId, running);
    }
    return running;
  }

  /**
   * Reads the coupon and its holders, and installs them in Redis, while holding the coupon's rows
   * lock (and the issuers' lock): no write or give-back commits between the read and the install,
   * so a row committed meanwhile can never be missing from the state (and then granted twice).
   * The lock is an advisory one, held for a few Redis round trips by a rare operation; every
   * request keeps going meanwhile (Redis answers), only the coupon's writes wait.
   */
  private async load(couponId: number, mode: 'if-missing' | 'replace', { withinChange = false } = {}): Promise<void> {
    const keys = couponKeys(couponId);
    const staged = keys.staged(randomBytes(6).toString('hex'));
    await this.db.transaction('READ COMMITTED', async (tx) => {
      // never between an admin change's guard and its commit (coupon-change-lock.ts), unless for that change
      if (!withinChange) await tx.query('SELECT pg_advisory_xact_lock_shared($1, $2)', [ADVISORY_LOCK.changesOfCoupon, couponId]);
      await tx.query('SELECT pg_advisory_xact_lock($1, $3), pg_advisory_xact_lock($2, $3)', [
        ADVISORY_LOCK.issuersOfCoupon,
        ADVISORY_LOCK.rowsOfCoupon,
        couponId,
      ]);
      // READ COMMITTED: each statement below sees every commit made before the lock was granted
      const [coupon] = await tx.query<CouponEntity[]>(
        `SELECT total_quantity AS "totalQuantity", status, starts_at AS "startsAt", ends_at AS "endsAt", version FROM coupons WHERE id = $1`,
        [couponId],
      );
      if (!coupon) {
        await this.remove(couponId);
        throw couponNotFound(couponId);
      }
      const issued = await tx.query<{ user_id: number }[]>(`SELECT user_id FROM coupon_issues WHERE coupon_id = $1`, [couponId]);
      const holders = issued.map((r) => r.user_id);
      const [{ latest }] = await tx.query<{ latest: string | null }[]>(
        `SELECT ${epochMs('max(withdrawn_at)')} AS latest FROM coupon_withdrawals WHERE coupon_id = $1`,
        [couponId],
      );
      // the staged holders can be lost before the install (Redis flushed, or restarted short of
      // them): the install then refuses (-1), and they are staged again
      for (let attempt = 1; ; attempt++) {
        for (let i = 0; i < holders.length; i += STAGE_CHUNK) {
          await this.redis.sadd(staged, ...holders.slice(i, i + STAGE_CHUNK).map(String));
        }
        const fields = [...couponFields(coupon), String(STAGE_CHUNK), latest ?? '', String(holders.length)];
        if ((await this.scripts.couponInstall(keys.meta, keys.holders, staged, keys.pending, mode, ...fields)) !== -1) return;
        if (attempt === 3) throw unavailable(`the holders of coupon ${couponId} were lost while being loaded into Redis`);
      }
    });
  }

  /**
   * After an admin change: the coupon fields follow, unless Redis holds a later change's already
   * (the coupon's version orders them); a state not installed stays absent.
   */
  async updateCouponFields(coupon: CouponEntity): Promise<void> {
    await this.scripts.couponUpdateMeta(couponKeys(coupon.id).meta, ...couponFields(coupon));
  }

  /**
   * Keeps Redis in step with an admin change. If Redis cannot follow, the coupon fields are
   * dropped (never the holders, pending requests, withdrawals or give-backs: those are promises),
   * so the next request rebuilds them from PostgreSQL; if even that fails, PostgreSQL's own
   * checks still refuse what a stale state would allow.
   */
  async follow(change: CouponChange): Promise<void> {
    try {
      if (change.kind === 'deleted') await this.remove(change.couponId);
      else if (change.kind === 'created') await this.rebuild(change.couponId, 'replace');
      else await this.updateCouponFields(change.coupon);
    } catch (error) {
      this.logger.warn(`could not bring coupon ${change.couponId} into Redis: ${(error as Error).message}`);
      await this.dropCouponFields(change.couponId).catch(() => undefined);
    }
  }

  /**
   * Before an admin change that could take back a promise: `total`, refused (QUANTITY_BELOW_ISSUED)
   * when more units are reserved, pending or written than it allows, and in force at once when
   * lower; `delete`, refused (COUPON_HAS_ISSUES) while any unit is taken, and the coupon closed to
   * new requests until PostgreSQL has deleted it (or follow() reopens it).
   */
  async guardChange(couponId: number, change: { total: number } | 'delete'): Promise<void> {
    const meta = couponKeys(couponId).meta;
    const ask = () => (change === 'delete' ? this.scripts.couponGuardChange(meta, 'delete') : this.scripts.couponGuardChange(meta, 'total', change.total));
    let reply = await ask();
    if (reply === 'MISSING') {
      // this change holds the coupon's change lock: its own rebuild, not one of the requests' (they wait for the lock)
      await this.load(couponId, 'if-missing', { withinChange: true }); // 404 for a coupon that does not exist
      reply = await ask();
    }
    if (reply === 'MISSING') throw unavailable(`reservation state of coupon ${couponId} could not be rebuilt`);
    if (reply === 'ALLOWED') return;
    if (change === 'delete')
      throw new DomainError(ErrorCode.COUPON_HAS_ISSUES, `Coupon ${couponId} has ${reply} issued or accepted requests and cannot be deleted`);
    throw new DomainError(ErrorCode.QUANTITY_BELOW_ISSUED, `totalQuantity ${change.total} is below the ${reply} already issued or accepted`);
  }

  /** Forgets the coupon fields alone: the next request rebuilds them, and keeps every promise. */
  private async dropCouponFields(couponId: number): Promise<void> {
    const keys = couponKeys(couponId);
    await this.redis.del(keys.meta);
    await this.redis.publish(STOCK_CHANNEL, keys.meta);
  }

  async remove(couponId: number): Promise<void> {
    const keys = couponKeys(couponId);
    await this.redis.del(keys.meta, keys.holders, keys.pending, keys.rejected, keys.withdrawn, keys.returning);
    await this.redis.publish(STOCK_CHANNEL, keys.meta); // what any process concluded about its stock is void
  }
}
