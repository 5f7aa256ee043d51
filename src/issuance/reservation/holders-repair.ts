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

/** What a coupon's holders in Redis and its rows in PostgreSQL disagree on. */
interface Disagreement {
  /** Listed in Redis, no row, nothing under way: a unit held for nobody. */
  orphans: number[];
  /** A row in PostgreSQL, not listed in Redis: a unit Redis could grant twice. */
  forgotten: number[];
}

/**
 * The last net under the reservation state: Redis' holders brought back in line with PostgreSQL's
 * rows, both ways.
 *
 * - On a coupon whose rows have stood still since the last pass (while writes commit, reservations
 *   on their way to a row explain any difference), a holder listed with no row, no request
 *   pending, give-back under way or withdrawal marked holds a unit nobody will ever write (the API
 *   died between the reservation and its write; a reply lost and never recorded; a release
 *   acknowledged by a Redis master that then failed over). Seen so on every pass for longer than
 *   any write can take after its reservation (`graceMs`), it is released. Before, it stayed held
 *   back until an admin ran reconcile, and the coupon sold out short.
 * - A row whose holder Redis does not list (a reservation acknowledged by a master that failed over
 *   before a replica had it) is listed again, on the next pass when Redis lists fewer holders than
 *   rows: until then Redis counts too few, and grants units PostgreSQL will refuse to write.
 *
 * Both act under the coupon's rows lock, after PostgreSQL is asked once more, so no write commits
 * in between. A coupon found in agreement is not read again until its counts change. Each process
 * with a reservation state runs it; two doing the same act move `taken` once.
 */
@Injectable()
export class HoldersRepair implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(HoldersRepair.name);
  readonly graceMs: number;
  /** `${coupon}:${user}` -> when first seen orphaned, on this process's clock. */
  private seen = new Map<string, number>();
  /** Each coupon's rows at the last pass. */
  private rows = new Map<number, number>();
  /** Each coupon's counts when last found in agreement. */
  private agreed = new Map<number, string>();
  private readonly passes = new RepeatingPass(
    REPAIR_EVERY_MS,
    async () => {
      const { released, restored } = await this.repair();
      if (released) this.logger.warn(`released ${released} units held in Redis for nobody (no row, nothing under way)`);
      if (restored) this.logger.warn(`listed ${restored} holders again whose rows Redis had lost`);
    },
    (error) => this.logger.warn(`repair of the holders failed: ${error.message}`),
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

  /** One pass over the coupons in use. */
  async repair(now = Date.now()): Promise<{ released: number; restored: number }> {
    const seen = new Map<string, number>();
    const rowsBefore = this.rows;
    this.rows = new Map();
    let released = 0;
    let restored = 0;
    for (const couponId of await couponsInUse(this.db)) {
      const { orphans, forgotten } = await this.disagreement(couponId, rowsBefore);
      const due = orphans.filter((userId) => {
        const key = `${couponId}:${userId}`;
        const since = this.seen.get(key) ?? now;
        seen.set(key, since);
        return now - since >= this.graceMs;
      });
      if (due.length || forgotten.length) {
        const done = await this.act(couponId, due, forgotten);
        released += done.released;
        restored += done.restored;
      }
    }
    this.seen = seen; // one explained since (written, pending, given back) starts over if it comes back
    return { released, restored };
  }

  private async disagreement(couponId: number, rowsBefore: Map<number, number>): Promise<Disagreement> {
    const none = { orphans: [], forgotten: [] };
    const k = couponKeys(couponId);
    const counts = await Promise.all([this.redis.scard(k.holders), this.redis.hlen(k.pending), this.redis.hlen(k.returning), this.redis.scard(k.withdrawn)]);
    const [coupon] = await this.db.query<{ rows: number }[]>('SELECT issued_quantity AS rows FROM coupons WHERE id = $1', [couponId]);
    const rows = Number(coupon?.rows ?? 0);
    this.rows.set(couponId, rows);
    const signature = [rows, ...counts].join(':');
    // fewer holders than rows is wrong whatever is in flight (a row's holder is listed before its
    // write and released after its removal): acted on at once, not when the coupon is still
    const still = rowsBefore.get(couponId) === rows;
    if ((!still && counts[0] >= rows) || this.agreed.get(couponId) === signature) return none;
    const [holders, pending, returning, withdrawn] = await Promise.all([
      this.redis.smembers(k.holders),
      this.redis.hkeys(k.pending),
      this.redis.hkeys(k.returning),
      this.redis.smembers(k.withdrawn),
    ]);
    if (!(await this.redis.exists(k.meta))) return none; // no state: the next request rebuilds it from PostgreSQL
    const underWay = new Set([...pending, ...returning, ...withdrawn].map(Number));
    const listed = new Set(holders.map(Number));
    const written = new Set(
      (await this.db.query<{ user_id: number }[]>('SELECT user_id FROM coupon_issues WHERE coupon_id = $1', [couponId])).map((r) => Number(r.user_id)),
    );
    const orphans = still ? [...listed].filter((u) => !written.has(u) && !underWay.has(u)) : [];
    const forgotten = [...written].filter((u) => !listed.has(u) && !underWay.has(u));
    if (!orphans.length && !forgotten.length) this.agreed.set(couponId, signature);
    return { orphans, forgotten };
  }

  /** Under the rows lock: PostgreSQL asked again, then the orphans released and the forgotten listed again. */
  private act(couponId: number, orphans: number[], forgotten: number[]): Promise<{ released: number; restored: number }> {
    const k = couponKeys(couponId);
    return this.db.transaction('READ COMMITTED', async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1, $2)', [ADVISORY_LOCK.rowsOfCoupon, couponId]);
      const held = await holdersAmong(tx, couponId, [...orphans, ...forgotten]);
      let released = 0;
      let restored = 0;
      for (const userId of orphans) {
        if (!held.has(userId)) released += await this.scripts.couponReleaseOrphan(k.meta, k.holders, k.pending, k.returning, k.withdrawn, userId);
      }
      for (const userId of forgotten) {
        if (held.has(userId)) restored += await this.scripts.couponRestoreHolder(k.meta, k.holders, k.pending, userId);
      }
      return { released, restored };
    });
  }
}
