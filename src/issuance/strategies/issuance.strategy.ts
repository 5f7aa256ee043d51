import type { RedisClient } from '../../redis/redis.module';
import type { IssuanceStrategyName } from '../../config/issuance.config';
import type { CancelRequest } from '../issue-canceller';
import type { IssueView } from '../issue.view';

/** What POST /coupons/:id/issue answers: issued now (201), or accepted and pending (202). */
export type IssueOutcome = { status: 'ISSUED'; issue: IssueView } | { status: 'PENDING'; couponId: number };

/** What GET /coupons/:id/issue answers; undefined means the user never asked. */
export type IssueState = { status: 'ISSUED'; issue: IssueView } | { status: 'PENDING' } | { status: 'REJECTED'; reason: string };

/** A strategy's own figures; the optional ones exist only where the strategy keeps that state. */
export interface StrategyStats {
  /** Accepted but not yet written to PostgreSQL. */
  pending: number;
  /** Units taken in Redis (`redis`, `queue`); null when the coupon has no Redis state yet. */
  redisReserved?: number | null;
  /** BullMQ jobs not finished yet (`queue`). */
  queueDepth?: number;
}

/** A dependency a strategy needs besides PostgreSQL: `check` resolves with details, or rejects when it is down. */
export interface DependencyProbe {
  name: string;
  check(): Promise<Record<string, unknown>>;
}

/**
 * The port every issuance strategy implements; the factory in IssuanceModule picks one from
 * ISSUANCE_STRATEGY. Each must keep, under any concurrency: rows <= total, one row per
 * (coupon, user), and the coupon's counter equal to its rows once nothing is in flight.
 */
export abstract class IssuanceStrategy {
  abstract readonly name: IssuanceStrategyName;

  /** Issues (or accepts) a coupon for the user, or throws a coded refusal. */
  abstract issue(couponId: number, userId: number): Promise<IssueOutcome>;

  /**
   * Takes an unredeemed issue back (the holder gives it back, or an admin revokes it) and returns
   * its unit to stock, for whoever asks next; or throws a coded refusal (cancelRefusalError).
   */
  abstract cancel(couponId: number, request: CancelRequest): Promise<void>;

  /** Where the user's request for this coupon stands. */
  abstract state(couponId: number, userId: number): Promise<IssueState | undefined>;

  /**
   * The strategy's own figures for GET /coupons/:id/stats. `pending`: accepted but not yet
   * written to PostgreSQL (`issuedRows` is what PostgreSQL holds now).
   */
  abstract stats(couponId: number, issuedRows: number): Promise<StrategyStats>;

  /**
   * Everyone holding (or, where requests are accepted before written, owed) a unit of the coupon,
   * when at most `atMost` do: the sold-out flag answers all others SOLD_OUT in the process.
   */
  abstract holdersIfAtMost(couponId: number, atMost: number): Promise<Set<number> | undefined>;

  /** Rebuilds any state kept outside PostgreSQL from PostgreSQL's truth. */
  abstract reconcile(couponId: number): Promise<void>;

  /** What readiness probes besides PostgreSQL (Redis, the queue); none for a PostgreSQL-only strategy. */
  abstract dependencies(): DependencyProbe[];
}

/** Readiness of the Redis a strategy keeps its state in. */
export const redisProbe = (redis: RedisClient): DependencyProbe => ({
  name: 'redis',
  check: async () => {
    await redis.ping();
    return {};
  },
});
