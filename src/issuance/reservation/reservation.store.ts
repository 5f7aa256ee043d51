import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { couponNotFound, unavailable } from '../../common/errors/domain.error';
import type { CouponEntity } from '../../coupons/coupon.entity';
import { REDIS } from '../../redis/redis.module';
import { couponKeys } from './coupon-keys';

export type Verdict = 'OK' | 'ALREADY_ISSUED' | 'NOT_OPEN' | 'SOLD_OUT';
type ScriptReply = Verdict | 'MISSING';

const lua = (name: string) => readFileSync(join(__dirname, name), 'utf8');
/** Holders are staged in chunks this big (SADD arguments per command). */
const STAGE_CHUNK = 5000;

interface ReservationScripts {
  couponReserve(meta: string, holders: string, userId: number, nowMs: number): Promise<ScriptReply>;
  couponRelease(meta: string, holders: string, userId: number): Promise<number>;
  couponInstall(meta: string, holders: string, staged: string, mode: string, ...fields: string[]): Promise<number>;
  couponUpdateMeta(meta: string, ...fields: string[]): Promise<number>;
}

const msOrEmpty = (d: Date | null) => (d ? String(d.getTime()) : '');
const campaignFields = (c: Pick<CouponEntity, 'totalQuantity' | 'status' | 'startsAt' | 'endsAt'>) => [
  String(c.totalQuantity), c.status, msOrEmpty(c.startsAt), msOrEmpty(c.endsAt),
];

/**
 * A coupon's stock and holders in Redis, decided atomically by Lua scripts (loaded once; ioredis
 * calls them by EVALSHA). PostgreSQL stays the truth: the state is built from it, rebuilt when
 * missing or torn (fail closed: a missing state is never read as stock), and replaced by reconcile.
 */
@Injectable()
export class ReservationStore {
  private readonly scripts: ReservationScripts;

  constructor(
    @Inject(REDIS) private readonly client: Redis | null,
    @InjectDataSource() private readonly db: DataSource,
  ) {
    this.scripts = client as unknown as ReservationScripts;
    if (!client) return; // inert for the pessimistic strategy, which has no Redis
    const redis = client;
    redis.defineCommand('couponReserve', { numberOfKeys: 2, lua: lua('reserve.lua') });
    redis.defineCommand('couponRelease', { numberOfKeys: 2, lua: lua('release.lua') });
    redis.defineCommand('couponInstall', { numberOfKeys: 3, lua: lua('install-state.lua') });
    redis.defineCommand('couponUpdateMeta', { numberOfKeys: 1, lua: lua('update-meta.lua') });
  }

  private get redis(): Redis {
    if (!this.client) throw new Error('the reservation store needs REDIS_URL');
    return this.client;
  }

  /** Reserves one for the user, or says why not; rebuilds a missing state from PostgreSQL first. */
  async reserve(couponId: number, userId: number): Promise<Verdict> {
    const { meta, holders } = couponKeys(couponId);
    let reply = await this.scripts.couponReserve(meta, holders, userId, Date.now());
    if (reply === 'MISSING') {
      await this.rebuild(couponId, 'if-missing');
      reply = await this.scripts.couponReserve(meta, holders, userId, Date.now());
    }
    if (reply === 'MISSING') throw unavailable(`reservation state of coupon ${couponId} could not be rebuilt`);
    return reply;
  }

  /** Gives the user's reservation back; true when there was one. */
  async release(couponId: number, userId: number): Promise<boolean> {
    const { meta, holders } = couponKeys(couponId);
    return (await this.scripts.couponRelease(meta, holders, userId)) === 1;
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
   * Loads the coupon and its holders from one consistent PostgreSQL snapshot, stages the holders
   * under a key of its own, then swaps everything in with one script. 'if-missing' keeps a sound
   * state that another process installed meanwhile; 'replace' makes PostgreSQL's truth win.
   */
  async rebuild(couponId: number, mode: 'if-missing' | 'replace'): Promise<void> {
    const keys = couponKeys(couponId);
    const { coupon, holders } = await this.db.transaction('REPEATABLE READ', async (tx) => {
      const [row] = await tx.query(
        `SELECT total_quantity AS "totalQuantity", status, starts_at AS "startsAt", ends_at AS "endsAt" FROM coupons WHERE id = $1`,
        [couponId],
      );
      const issued = row ? await tx.query<{ user_id: number }[]>(`SELECT user_id FROM coupon_issues WHERE coupon_id = $1`, [couponId]) : [];
      return { coupon: row as CouponEntity | undefined, holders: issued.map((r) => r.user_id) };
    });
    if (!coupon) {
      await this.remove(couponId);
      throw couponNotFound(couponId);
    }
    const staged = keys.staged(randomBytes(6).toString('hex'));
    for (let i = 0; i < holders.length; i += STAGE_CHUNK) {
      await this.redis.sadd(staged, ...holders.slice(i, i + STAGE_CHUNK).map(String));
    }
    await this.scripts.couponInstall(keys.meta, keys.holders, staged, mode, ...campaignFields(coupon));
  }

  /** After an admin change: the campaign fields follow; a state not installed stays absent. */
  async updateCampaign(coupon: CouponEntity): Promise<void> {
    await this.scripts.couponUpdateMeta(couponKeys(coupon.id).meta, ...campaignFields(coupon));
  }

  async remove(couponId: number): Promise<void> {
    const keys = couponKeys(couponId);
    await this.redis.del(keys.meta, keys.holders, keys.view);
  }
}
