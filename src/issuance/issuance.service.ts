import { Injectable } from '@nestjs/common';
import { DomainError } from '../common/errors/domain.error';
import { ERROR_STATUS, ErrorCode } from '../common/errors/error-code';
import { Page } from '../common/pagination';
import { CouponsService } from '../coupons/coupons.service';
import { MetricsService } from '../metrics/metrics.service';
import { isDomainError, notRequested } from './issuance.errors';
import type { CancelRequest } from './issue-canceller';
import { cancelRefusalError, refusalError } from './refusal';
import { SoldOutGate } from './sold-out/sold-out-gate';
import { IdempotencyKeys, kept, replayed } from './idempotency-keys';
import { CouponIssueHistoryView, IssueStore } from './issue.store';
import { IssuanceStrategy, IssueOutcome, IssueState, StrategyStats } from './strategies/issuance.strategy';

export type IssuanceStats = {
  totalQuantity: number;
  issuedQuantity: number;
  issuedRows: number;
  remainingQuantity: number;
  redeemedQuantity: number;
  cancelledQuantity: number;
} & StrategyStats;

/** Everything around the chosen strategy that is the same for all of them. */
@Injectable()
export class IssuanceService {
  /** The strategy's instruments, bound to its labels once (prom-client would hash them per request otherwise). */
  private readonly duration: { startTimer(): () => void };
  private readonly outcomes = new Map<string, { inc(): void }>();

  constructor(
    private readonly strategy: IssuanceStrategy,
    private readonly coupons: CouponsService,
    private readonly issues: IssueStore,
    private readonly metrics: MetricsService,
    private readonly soldOut: SoldOutGate,
    private readonly keys: IdempotencyKeys,
  ) {
    this.duration = metrics.issueDuration.labels(strategy.name);
  }

  private countOutcome(outcome: string): void {
    let counter = this.outcomes.get(outcome);
    if (!counter) this.outcomes.set(outcome, (counter = this.metrics.issueOutcomes.labels(this.strategy.name, outcome)));
    counter.inc();
  }

  /**
   * Issues (or accepts) the coupon for the user. With an Idempotency-Key, a repeat of the key gets
   * the first answer again (its status and body), whatever happened since; see IdempotencyKeys.
   */
  async issue(couponId: number, userId: number, idempotencyKey?: string): Promise<IssueOutcome> {
    const stop = this.duration.startTimer();
    let outcome = 'INTERNAL';
    try {
      const result = idempotencyKey ? await this.issueOnce(couponId, userId, idempotencyKey) : await this.decide(couponId, userId, false);
      outcome = result.status;
      return result;
    } catch (error) {
      if (error instanceof DomainError) outcome = error.code;
      throw error;
    } finally {
      stop();
      this.countOutcome(outcome);
    }
  }

  /**
   * Throws SOLD_OUT when this process's flag says the coupon is sold out and the user holds none
   * (no Redis, no PostgreSQL); counted as an issue request like any other answer.
   */
  refuseIfSoldOut(couponId: number, userId: number): void {
    const refusal = this.flagRefusal(couponId, userId);
    if (!refusal) return;
    this.countOutcome(refusal.code);
    throw refusal;
  }

  private flagRefusal(couponId: number, userId: number): DomainError | undefined {
    if (!this.soldOut.flags.refuses(couponId, userId)) return undefined;
    this.soldOut.answered.inc();
    return refusalError(couponId, 'SOLD_OUT');
  }

  /**
   * The request under its key: the key's first answer again, or this request decided and its
   * answer kept. An answer is what the client was told for sure (an issue, an acceptance, a
   * refusal); a 503 or a fault is not one, and the next attempt with the key is a retry of it.
   */
  private async issueOnce(couponId: number, userId: number, key: string): Promise<IssueOutcome> {
    const claim = await this.keys.claim(userId, couponId, key);
    if (claim.kind === 'answered') return replayed(claim.answer);
    try {
      const outcome = await this.decide(couponId, userId, claim.retry);
      await this.keys.answer(userId, couponId, key, kept(outcome));
      return outcome;
    } catch (error) {
      const status = error instanceof DomainError ? ERROR_STATUS[error.code] : 500;
      // a refusal is an answer; a 429 (ask later), a 503 or a fault is not
      if (error instanceof DomainError && status < 500 && status !== 429) {
        await this.keys.answer(userId, couponId, key, { status, body: { code: error.code, message: error.message } });
      } else {
        await this.keys.undecided(userId, couponId, key).catch(() => undefined);
      }
      throw error;
    }
  }

  /**
   * The strategy's decision. `retry`: an earlier attempt of this very request may have taken the
   * unit and lost its answer (a 503); then ALREADY_ISSUED is that attempt's outcome, answered as
   * it would have been (the issue, or the pending acceptance).
   */
  private async decide(couponId: number, userId: number, retry: boolean): Promise<IssueOutcome> {
    const refusal = this.flagRefusal(couponId, userId);
    if (refusal) throw refusal;
    const { flags } = this.soldOut;
    const generation = flags.generation(couponId);
    try {
      return await this.strategy.issue(couponId, userId);
    } catch (error) {
      if (isDomainError(error, ErrorCode.SOLD_OUT)) {
        flags.soldOut(couponId, generation, () => this.strategy.holdersIfAtMost(couponId, this.soldOut.maxHolders));
      }
      if (!retry || !isDomainError(error, ErrorCode.ALREADY_ISSUED)) throw error;
      const state = await this.strategy.state(couponId, userId);
      if (state?.status === 'ISSUED') return state;
      if (state?.status === 'PENDING') return { status: 'PENDING', couponId };
      throw error;
    }
  }

  /** The strategy is asked first: `queue` answers a pending request from Redis alone, without PostgreSQL. */
  async state(couponId: number, userId: number): Promise<IssueState> {
    const state = await this.strategy.state(couponId, userId);
    if (state) return state;
    await this.coupons.get(couponId); // 404 COUPON_NOT_FOUND rather than NOT_REQUESTED
    throw notRequested(couponId);
  }

  /**
   * The holder gives their coupon back (or, with `queue`, withdraws a request still pending). A
   * refusal is checked against the coupon's existence, so an unknown coupon is 404 COUPON_NOT_FOUND.
   */
  async giveBack(couponId: number, userId: number): Promise<void> {
    await this.cancelOr404(couponId, { userId, reason: 'GIVEN_BACK' });
  }

  /** An admin takes back one issue of the coupon. */
  async revoke(couponId: number, issueId: number): Promise<void> {
    const userId = await this.issues.holderOf(couponId, issueId);
    if (userId === undefined) {
      await this.coupons.get(couponId);
      throw cancelRefusalError(couponId, 'NOT_HELD', 'REVOKED');
    }
    await this.cancelOr404(couponId, { userId, issueId, reason: 'REVOKED' });
  }

  private async cancelOr404(couponId: number, request: CancelRequest): Promise<void> {
    try {
      await this.strategy.cancel(couponId, request);
    } catch (error) {
      if (error instanceof DomainError && ERROR_STATUS[error.code] === 404) await this.coupons.get(couponId);
      throw error;
    }
  }

  async history(couponId: number, cursor: string | undefined, limit: number): Promise<Page<CouponIssueHistoryView>> {
    await this.coupons.get(couponId);
    return this.issues.pageForCoupon(couponId, cursor, limit);
  }

  async stats(couponId: number): Promise<IssuanceStats> {
    const coupon = await this.coupons.get(couponId);
    const { rows: issuedRows, redeemed, cancelled } = await this.issues.counts(couponId);
    return {
      totalQuantity: coupon.totalQuantity,
      issuedQuantity: coupon.issuedQuantity,
      issuedRows,
      remainingQuantity: Math.max(0, coupon.totalQuantity - coupon.issuedQuantity),
      redeemedQuantity: redeemed,
      cancelledQuantity: cancelled,
      ...(await this.strategy.stats(couponId, issuedRows)),
    };
  }

  async reconcile(couponId: number): Promise<IssuanceStats> {
    await this.coupons.get(couponId);
    await this.strategy.reconcile(couponId);
    return this.stats(couponId);
  }
}
