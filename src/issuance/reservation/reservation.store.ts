import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import Redis, { Cluster } from 'ioredis';
import { DataSource } from 'typeorm';
import { couponNotFound, DomainError, unavailable } from '../../common/errors/domain.error';
import { ErrorCode } from '../../common/errors/error-code';
import type { CouponEntity } from '../../coupons/coupon.entity';
import type { CouponChange } from '../../coupons/coupons.service';
import { REDIS, type RedisClient } from '../../redis/redis.module';
import { STOCK_CHANNEL } from '../sold-out/stock-signal';
import { ADVISORY_LOCK } from '../../database/advisory-locks';
import { ISSUE_RATE_WINDOW_MS, type Refusal } from '../refusal';
import { couponKeys, requestCountKey } from './coupon-keys';

/** What reserve.lua answers: a unit reserved, or a refusal (the Lua script speaks the same vocabulary). */
export type Verdict = 'OK' | Extract<Refusal, 'ALREADY_ISSUED' | 'NOT_OPEN' | 'SOLD_OUT' | 'RATE_LIMITED'>;
type ScriptReply = Verdict | 'MISSING';

/** What give-back.lua answers (see there). */
export type GiveBackStep = 'WITHDRAWING' | 'RETURNING' | 'NOT_HELD';
/** What settle.lua answers for each user written (see there). */
export type SettleVerdict = 'KEEP' | 'WITHDRAWN' | 'ABSENT';
/**
 * A user a writer has just written: `inserted` when this write made the row (not a no-op);
 * `askedAt` (ms) when their request was made, at the latest (a give-back recorded after it is
 * evidence that a row made now is one they gave back).
 */
export interface Written {
  userId: number;
  inserted: boolean;
  askedAt: number;
}

const lua = (name: string) => readFileSync(join(__dirname, name), 'utf8');
/** Holders are staged in chunks this big (SADD arguments per command; install-state.lua uses it too). */
const STAGE_CHUNK = 5000;
/**
 * How long a give-back's tombstone stands at most: the give-back's PostgreSQL statement, plus
 * margin. Only a caller that died leaves one to expire; a writer waiting on it waits that long.
 */
const GIVE_BACK_DEADLINE_MS = 10_000;
const SETTLE_RECHECK_MS = 20;
/** How long an accepted request waits for a replica to hold it before the answer is 503. */
const REPLICA_WAIT_MS = 500;

/** The scripts as ioredis commands, each with a fixed number of keys (see reserve.lua for why). */
interface ReservationScripts {
  couponReserve(...keysThenArgs: (string | number)[]): Promise<ScriptReply>;
  couponRelease(...keysThenArgs: (string | number)[]): Promise<number>;
  couponGiveBack(...keysThenArgs: (string | number)[]): Promise<GiveBackStep>;
  couponSettle(...keysThenArgs: (string | number)[]): Promise<(SettleVerdict | 'WAIT')[]>;
  couponInstall(meta: string, holders: string, staged: string, pending: string, mode: string, ...fieldsThenChunk: string[]): Promise<number>;
  couponUpdateMeta(meta: string, ...fields: string[]): Promise<number>;
  couponGuardChange(meta: string, change: 'total' | 'delete', total?: number): Promise<'OK' | 'MISSING' | number>;
  couponRestoreHolder(meta: string, holders: string, pending: string, userId: number): Promise<number>;
}

const msOrEmpty = (d: Date | null) => (d ? String(d.getTime()) : '');
const campaignFields = (c: Pick<CouponEntity, 'totalQuantity' | 'status' | 'startsAt' | 'endsAt'>) => [
  String(c.totalQuantity),
  c.status,
  msOrEmpty(c.startsAt),
  msOrEmpty(c.endsAt),
];

/**
 * A coupon's stock and holders in Redis, decided atomically by Lua scripts (loaded once; ioredis
 * calls them by EVALSHA). PostgreSQL stays the truth: the state is built from it, rebuilt when
 * missing or torn (fail closed: a missing state is never read as stock), and replaced by reconcile
 * (which keeps requests still pending, so their units are not handed to someone else).
 */
@Injectable()
export class ReservationStore {
  private readonly logger = new Logger(ReservationStore.name);
  private readonly scripts: ReservationScripts;
  /** Replicas connected to each master, as last asked. */
  private readonly replicaCounts = new Map<string, { count: number; at: number }>();
  /** Each coupon's cluster slot (it never changes). */
  private readonly slots = new Map<number, number>();
  /** Lazy rebuilds under way in this process, by coupon. */
  private readonly rebuilding = new Map<number, Promise<void>>();

  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    @InjectDataSource() private readonly db: DataSource,
  ) {
    this.scripts = redis as unknown as ReservationScripts;
    redis.defineCommand('couponReserve', { numberOfKeys: 5, lua: lua('reserve.lua') });
    redis.defineCommand('couponRelease', { numberOfKeys: 6, lua: lua('release.lua') });
    redis.defineCommand('couponGiveBack', { numberOfKeys: 4, lua: lua('give-back.lua') });
    redis.defineCommand('couponSettle', { numberOfKeys: 5, lua: lua('settle.lua') });
    redis.defineCommand('couponInstall', { numberOfKeys: 4, lua: lua('install-state.lua') });
    redis.defineCommand('couponUpdateMeta', { numberOfKeys: 1, lua: lua('update-meta.lua') });
    redis.defineCommand('couponGuardChange', { numberOfKeys: 1, lua: lua('guard-change.lua') });
    redis.defineCommand('couponRestoreHolder', { numberOfKeys: 3, lua: lua('restore-holder.lua') });
  }

  /**
   * Reserves one for the user, or says why not; rebuilds a missing state from PostgreSQL first.
   * With `recordPending`, the reservation is also recorded as pending in the same atomic step.
   * With `perSecond` (> 0), the request is counted first, and refused RATE_LIMITED past that many
   * requests of this user for this coupon within a second (counted once, even when rebuilt).
   */
  async reserve(couponId: number, userId: number, { recordPending = false, perSecond = 0 } = {}): Promise<Verdict> {
    const k = couponKeys(couponId);
    const count = requestCountKey(couponId, userId);
    const run = (limit: number) =>
      this.scripts.couponReserve(k.meta, k.holders, k.pending, count, k.withdrawn, userId, Date.now(), recordPending ? '1' : '0', limit, ISSUE_RATE_WINDOW_MS);
    let reply = await run(perSecond);
    if (reply === 'MISSING') {
      await this.rebuild(couponId, 'if-missing');
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
    const k = couponKeys(couponId);
    return (await this.scripts.couponRelease(k.meta, k.holders, k.pending, k.rejected, k.withdrawn, k.returning, userId, rejectedBecause, '0')) === 1;
  }

  /**
   * The unit of a withdrawn request goes back, unless its user asked again after withdrawing (then
   * it is theirs again, pending: false).
   */
  async releaseWithdrawn(couponId: number, userId: number): Promise<boolean> {
    const k = couponKeys(couponId);
    return (await this.scripts.couponRelease(k.meta, k.holders, k.pending, k.rejected, k.withdrawn, k.returning, userId, '', '1')) !== -1;
  }

  /**
   * The first step of a give-back, before PostgreSQL: withdraw a pending request (when
   * `withdrawPending`), or stand a tombstone for a holder until `endGiveBack` or `release`.
   */
  async beginGiveBack(couponId: number, userId: number, { withdrawPending }: { withdrawPending: boolean }): Promise<GiveBackStep> {
    const k = couponKeys(couponId);
    const now = Date.now();
    return this.scripts.couponGiveBack(k.holders, k.pending, k.withdrawn, k.returning, userId, now + GIVE_BACK_DEADLINE_MS, now, withdrawPending ? '1' : '0');
  }

  /** A give-back that PostgreSQL refused (or could not run): the holder keeps their unit. */
  async endGiveBack(couponId: number, userId: number): Promise<void> {
    await this.redis.hdel(couponKeys(couponId).returning, String(userId));
  }

  /** A holder of a row whom Redis forgot is listed (and counted) again; their request is settled. */
  async restoreHolder(couponId: number, userId: number): Promise<void> {
    const k = couponKeys(couponId);
    await this.scripts.couponRestoreHolder(k.meta, k.holders, k.pending, userId);
  }

  /** A request settled without a row of its own (its row was one its user has given back since). */
  async forgetPending(couponId: number, userId: number): Promise<void> {
    await this.redis.hdel(couponKeys(couponId).pending, String(userId));
  }

  /** A withdrawal that came too late (the coupon was redeemed): the request is settled as issued. */
  async forgetWithdrawal(couponId: number, userId: number): Promise<void> {
    const k = couponKeys(couponId);
    await this.redis.multi().hdel(k.pending, String(userId)).srem(k.withdrawn, String(userId)).exec();
  }

  /**
   * After a writer's commit: which users keep their coupon (settled, no longer pending), and which
   * rows must be taken back (settle.lua). A user whose give-back is under way is asked again until
   * it has ended, so the verdict follows what the give-back did.
   */
  async settle(couponId: number, written: Written[]): Promise<SettleVerdict[]> {
    const k = couponKeys(couponId);
    const verdicts: (SettleVerdict | 'WAIT')[] = new Array(written.length).fill('WAIT');
    for (;;) {
      const open = written.map((w, i) => ({ ...w, i })).filter(({ i }) => verdicts[i] === 'WAIT');
      if (!open.length) return verdicts as SettleVerdict[];
      for (let from = 0; from < open.length; from += STAGE_CHUNK) {
        const chunk = open.slice(from, from + STAGE_CHUNK);
        const pairs = chunk.flatMap((w) => [w.userId, w.inserted ? '1' : '0']);
        const replies = await this.scripts.couponSettle(k.meta, k.holders, k.pending, k.withdrawn, k.returning, Date.now(), ...pairs);
        chunk.forEach((w, j) => (verdicts[w.i] = replies[j]));
      }
      if (verdicts.includes('WAIT')) await sleep(SETTLE_RECHECK_MS);
    }
  }

  /** Marks pending requests with the job that will write them: `acceptedAt:jobId`. */
  async markQueued(couponId: number, userIds: number[], jobId: string): Promise<void> {
    const stamp = `${Date.now()}:${jobId}`;
    await this.redis.hset(couponKeys(couponId).pending, Object.fromEntries(userIds.map((u) => [String(u), stamp])));
  }

  /**
   * On a Redis Cluster with replicas: waits until at least one replica of the coupon's master holds
   * every write sent to that master so far on this connection (WAIT, which counts per connection:
   * the reservation scripts went over this same one). False when none confirms within `withinMs`.
   * Redis replicates asynchronously, so without this a master that dies right after answering can
   * take an accepted request with it. One server, or a cluster without replicas: nothing to wait for.
   */
  async replicated(couponId: number, withinMs = REPLICA_WAIT_MS): Promise<boolean> {
    const cluster = this.redis;
    if (!(cluster instanceof Cluster) || cluster.nodes('slave').length === 0) return true;
    const key = couponKeys(couponId).meta;
    let slot = this.slots.get(couponId);
    if (slot === undefined) {
      slot = Number(await cluster.call('CLUSTER', 'KEYSLOT', key));
      this.slots.set(couponId, slot);
    }
    const owner = cluster.slots[slot]?.[0];
    const master = cluster.nodes('master').find((node) => `${node.options.host}:${node.options.port}` === owner);
    if (!master) return false; // the slot map is being refreshed (a failover): not confirmed
    // A master left without a replica in sync (its own just failed over to it, and the old one
    // has not rejoined, or is still taking its first full copy) cannot confirm anything: waiting
    // would refuse every request until one is. It then answers as one Redis server does, durable
    // by its append-only file; said once.
    if (!(await this.hasReplica(master, owner!))) return true;
    return Number(await master.call('WAIT', 1, withinMs)) >= 1;
  }

  /**
   * Whether this master has a replica online now (asked at most once a second per master). A
   * replica still in its full sync (state wait_bgsave or send_bulk) is connected but acknowledges
   * nothing until the copy is loaded, so it does not count.
   */
  private async hasReplica(master: Redis, name: string): Promise<boolean> {
    const known = this.replicaCounts.get(name);
    if (known && Date.now() - known.at < 1000) return known.count > 0;
    const info = String(await master.call('INFO', 'replication'));
    const count = info.match(/^slave\d+:.*state=online/gm)?.length ?? 0;
    if (count === 0 && (known?.count ?? 1) > 0)
      this.logger.warn(`Redis master ${name} has no replica in sync: accepted requests are not confirmed on a second node until one is`);
    this.replicaCounts.set(name, { count, at: Date.now() });
    return count > 0;
  }

  /** Accepted requests not yet settled: user id -> when accepted (ms) and the job meant to write it, if any yet. */
  async pending(couponId: number): Promise<Map<number, { acceptedAt: number; jobId?: string }>> {
    const all = await this.redis.hgetall(couponKeys(couponId).pending);
    return new Map(
      Object.entries(all).map(([user, value]) => {
        const [at, jobId] = value.split(':');
        return [Number(user), { acceptedAt: Number(at), jobId: jobId || undefined }];
      }),
    );
  }

  async pendingCount(couponId: number): Promise<number> {
    return this.redis.hlen(couponKeys(couponId).pending);
  }

  async isPending(couponId: number, userId: number): Promise<boolean> {
    return (await this.redis.hexists(couponKeys(couponId).pending, String(userId))) === 1;
  }

  /** Why the user's accepted request was rejected, if it was (kept a day). */
  async rejection(couponId: number, userId: number): Promise<string | null> {
    return this.redis.hget(couponKeys(couponId).rejected, String(userId));
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
  private async load(couponId: number, mode: 'if-missing' | 'replace'): Promise<void> {
    const keys = couponKeys(couponId);
    const staged = keys.staged(randomBytes(6).toString('hex'));
    await this.db.transaction('READ COMMITTED', async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1, $3), pg_advisory_xact_lock($2, $3)', [
        ADVISORY_LOCK.issuersOfCoupon,
        ADVISORY_LOCK.rowsOfCoupon,
        couponId,
      ]);
      // READ COMMITTED: each statement below sees every commit made before the lock was granted
      const [coupon] = await tx.query<CouponEntity[]>(
        `SELECT total_quantity AS "totalQuantity", status, starts_at AS "startsAt", ends_at AS "endsAt" FROM coupons WHERE id = $1`,
        [couponId],
      );
      if (!coupon) {
        await this.remove(couponId);
        throw couponNotFound(couponId);
      }
      const issued = await tx.query<{ user_id: number }[]>(`SELECT user_id FROM coupon_issues WHERE coupon_id = $1`, [couponId]);
      const holders = issued.map((r) => r.user_id);
      for (let i = 0; i < holders.length; i += STAGE_CHUNK) {
        await this.redis.sadd(staged, ...holders.slice(i, i + STAGE_CHUNK).map(String));
      }
      await this.scripts.couponInstall(keys.meta, keys.holders, staged, keys.pending, mode, ...campaignFields(coupon), String(STAGE_CHUNK));
    });
  }

  /** After an admin change: the campaign fields follow; a state not installed stays absent. */
  async updateCampaign(coupon: CouponEntity): Promise<void> {
    await this.scripts.couponUpdateMeta(couponKeys(coupon.id).meta, ...campaignFields(coupon));
  }

  /**
   * Keeps Redis in step with an admin change. If Redis cannot follow, the campaign fields are
   * dropped (never the holders, pending requests, withdrawals or give-backs: those are promises),
   * so the next request rebuilds them from PostgreSQL; if even that fails, PostgreSQL's own
   * checks still refuse what a stale state would allow.
   */
  async follow(change: CouponChange): Promise<void> {
    try {
      if (change.kind === 'deleted') await this.remove(change.couponId);
      else if (change.kind === 'created') await this.rebuild(change.couponId, 'replace');
      else await this.updateCampaign(change.coupon);
    } catch (error) {
      this.logger.warn(`could not bring coupon ${change.couponId} into Redis: ${(error as Error).message}`);
      await this.dropCampaign(change.couponId).catch(() => undefined);
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
      await this.rebuild(couponId, 'if-missing'); // 404 for a coupon that does not exist
      reply = await ask();
    }
    if (reply === 'MISSING') throw unavailable(`reservation state of coupon ${couponId} could not be rebuilt`);
    if (reply === 'OK') return;
    if (change === 'delete')
      throw new DomainError(ErrorCode.COUPON_HAS_ISSUES, `Coupon ${couponId} has ${reply} issued or accepted requests and cannot be deleted`);
    throw new DomainError(ErrorCode.QUANTITY_BELOW_ISSUED, `totalQuantity ${change.total} is below the ${reply} already issued or accepted`);
  }

  /** Forgets the campaign fields alone: the next request rebuilds them, and keeps every promise. */
  private async dropCampaign(couponId: number): Promise<void> {
    const keys = couponKeys(couponId);
    await this.redis.del(keys.meta);
    await this.redis.publish(STOCK_CHANNEL, keys.meta);
  }

  async remove(couponId: number): Promise<void> {
    const keys = couponKeys(couponId);
    await this.redis.del(keys.meta, keys.holders, keys.pending, keys.rejected, keys.withdrawn, keys.returning);
    await this.redis.publish(STOCK_CHANNEL, keys.meta); // what any process concluded about its stock is void
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
