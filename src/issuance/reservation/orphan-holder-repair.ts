import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { RepeatingPass } from '../../common/repeating-pass';
import { DatabaseConfig } from '../../config/database.config';
import { ADVISORY_LOCK } from '../../database/advisory-locks';
import { REDIS, type RedisClient } from '../../redis/redis.module';
import { couponKeys } from './coupon-keys';
import { couponsInUse, holdersAmong } from './repair-reads';
import { RESERVATION_SCRIPTS, type ReservationScripts } from './reservation-scripts';

const REPAIR_EVERY_MS = 10_000;
/** The least time a holder must be seen unexplained before their unit goes back. */
const MIN_GRACE_MS = 60_000;

/**
 * The last net under the reservation state: a holder Redis lists that PostgreSQL has no row for,
 * with no request pending, give-back under way or withdrawal marked, holds a unit nobody will
 * ever write (the API died between the reservation and its write; a reply lost and never
 * recorded; a release acknowledged by a Redis master that then failed over). Seen so on every pass
 * for longer than any write can take after its reservation (`graceMs`), the holder is released,
 * under the coupon's rows lock and after PostgreSQL is asked once more, so a row committing at
 * that moment is never released from under it. Without this, the unit stayed held back until
 * an admin ran reconcile, and the coupon sold out short. Each process with a reservation state
 * runs it; two doing the same release move `taken` once.
 */
@Injectable()
export class OrphanHolderRepair implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OrphanHolderRepair.name);
  /** `${coupon}:${user}` -> when first seen unexplained, on this process's clock. */
  private seen = new Map<string, number>();
  /** Each coupon's rows at the last pass. */
  private rows = new Map<number, number>();
  readonly graceMs: number;
  private readonly passes = new RepeatingPass(
    REPAIR_EVERY_MS,
    async () => {
      const n = await this.repair();
      if (n) this.logger.warn(`released ${n} units held in Redis for nobody (no row, nothing under way)`);
    },
    (error) => this.logger.warn(`repair of orphaned holders failed: ${error.message}`),
  );

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(RESERVATION_SCRIPTS) private readonly scripts: ReservationScripts,
    database: DatabaseConfig,
  ) {
    // a write starts within a pool wait of its reservation, and behind at most one batch of its coupon
    this.graceMs = Math.max(MIN_GRACE_MS, database.acquireTimeoutMs + 3 * database.statementTimeoutMs);
  }

  onApplicationBootstrap(): void {
    this.passes.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.passes.stop();
  }

  /** One pass; returns how many units went back to stock. */
  async repair(now = Date.now()): Promise<number> {
    const seen = new Map<string, number>();
    const rowsBefore = this.rows;
    this.rows = new Map();
    let released = 0;
    for (const couponId of await couponsInUse(this.db)) {
      const due: number[] = [];
      for (const userId of await this.unexplained(couponId, rowsBefore)) {
        const key = `${couponId}:${userId}`;
        const since = this.seen.get(key) ?? now;
        seen.set(key, since);
        if (now - since >= this.graceMs) due.push(userId);
      }
      if (due.length) released += await this.release(couponId, due);
    }
    this.seen = seen; // one explained since (written, pending, given back) starts over if it comes back
    return released;
  }

  /**
   * Holders with no row and nothing under way. Read in full only when Redis lists more holders
   * than rows and requests under way explain, and the coupon's rows have not moved since the last
   * pass: while writes commit, reservations on their way to a row explain the difference.
   */
  private async unexplained(couponId: number, rowsBefore: Map<number, number>): Promise<number[]> {
    const k = couponKeys(couponId);
    const [listed, pending, returning, withdrawn] = await Promise.all([
      this.redis.scard(k.holders),
      this.redis.hlen(k.pending),
      this.redis.hlen(k.returning),
      this.redis.scard(k.withdrawn),
    ]);
    const [coupon] = await this.db.query<{ rows: number }[]>('SELECT issued_quantity AS rows FROM coupons WHERE id = $1', [couponId]);
    const rows = Number(coupon?.rows ?? 0);
    const moved = rowsBefore.get(couponId) !== rows;
    this.rows.set(couponId, rows);
    if (moved || listed <= rows + pending + returning + withdrawn) return [];
    const [holders, pendingUsers, returningUsers, withdrawnUsers] = await Promise.all([
      this.redis.smembers(k.holders),
      this.redis.hkeys(k.pending),
      this.redis.hkeys(k.returning),
      this.redis.smembers(k.withdrawn),
    ]);
    const underWay = new Set([...pendingUsers, ...returningUsers, ...withdrawnUsers]);
    const candidates = holders.filter((u) => !underWay.has(u)).map(Number);
    if (!candidates.length) return [];
    const held = await holdersAmong(this.db, couponId, candidates);
    return candidates.filter((u) => !held.has(u));
  }

  /** Under the rows lock: PostgreSQL asked again, and those still without a row released. */
  private release(couponId: number, userIds: number[]): Promise<number> {
    const k = couponKeys(couponId);
    return this.db.transaction('READ COMMITTED', async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1, $2)', [ADVISORY_LOCK.rowsOfCoupon, couponId]);
      const rows = await tx.query<{ user_id: number }[]>(`SELECT user_id FROM coupon_issues WHERE coupon_id = $1 AND user_id = ANY($2::int[])`, [
        couponId,
        userIds,
      ]);
      const held = new Set(rows.map((r) => Number(r.user_id)));
      let released = 0;
      for (const userId of userIds) {
        if (!held.has(userId)) released += await this.scripts.couponReleaseOrphan(k.meta, k.holders, k.pending, k.returning, k.withdrawn, userId);
      }
      return released;
    });
  }
}
