import { Logger } from '@nestjs/common';
import { CancelRequest, IssueCanceller } from '../issue-canceller';
import { IssueStore } from '../issue.store';
import { cancelRefusalError } from '../refusal';
import { PendingRequests } from './pending-requests';
import { ReplicaConfirmation } from './replica-confirmation';
import { unavailable } from '../../common/errors/domain.error';
import { ReservationStore } from './reservation.store';
import type { Written } from './written';

/**
 * A give-back or revocation where Redis holds the stock (`redis`, `queue`), in the order that can
 * never hand a unit out twice, nor hand a user back what they returned:
 *
 *   1. Redis: a tombstone marks the holder as returning (give-back.lua). Their unit stays taken.
 *   2. PostgreSQL: the row leaves, the counter goes down, the history records it (one statement).
 *   3. Redis: the unit goes back to stock and the tombstone goes (release.lua).
 *
 * Between 2 and 3 Redis still counts the unit, so nobody else can be granted it before
 * PostgreSQL has room; at worst the unit is held back a moment, never sold twice. A writer that
 * re-creates the row meanwhile (a redelivered job, a lost write made good) checks after its commit
 * (settle.lua); it waits while the tombstone stands, and takes its row back if step 3 released the
 * user. If step 3 never runs (this process died), Redis still counts the unit (held back, not
 * oversold) until GiveBackRepair finds the tombstone past its deadline and finishes the give-back
 * from PostgreSQL's truth.
 *
 * With `queue`, a request still pending is withdrawn instead: step 1 marks it in Redis, and step 2
 * records it in PostgreSQL (taking back a row already written); the worker that writes it takes
 * the row back and releases the unit (nothing is written that stays), on either record: Redis'
 * mark, or PostgreSQL's when Redis has lost the mark.
 */
export class ReservedCancellation {
  private readonly logger = new Logger(ReservedCancellation.name);

  /**
   * `rewrite`: writes a user's request again (queue). A user who withdrew and asked again while
   * their withdrawn row was being taken back is owed a row by the new request, which may have
   * been settled on the very row taken back.
   */
  constructor(
    private readonly reservations: ReservationStore,
    private readonly pending: PendingRequests,
    private readonly canceller: IssueCanceller,
    private readonly replicas: ReplicaConfirmation,
    private readonly issues: IssueStore,
    private readonly rewrite?: (couponId: number, userId: number) => Promise<void>,
  ) {}

  async cancel(couponId: number, request: CancelRequest, { withdrawPending }: { withdrawPending: boolean }): Promise<void> {
    const { step, tombstone, withdrawnAt } = await this.reservations.beginGiveBack(couponId, request.userId, { withdrawPending });
    if (step === 'WITHDRAWING') return this.withdraw(couponId, request, withdrawnAt);
    const endTombstone = () =>
      step === 'RETURNING' &&
      this.reservations.endGiveBack(couponId, request.userId, tombstone).catch((error) => this.warn('end the give-back of', request, couponId, error));
    // on a cluster, the tombstone is on a replica before PostgreSQL is told: a failover then keeps
    // it, so a release lost with the old master is finished by the repair, not held back for good
    if (step === 'RETURNING' && !(await this.replicas.replicated(couponId))) {
      await endTombstone();
      throw unavailable('the give-back is not yet held by a Redis replica; ask again');
    }
    let result;
    try {
      result = await this.canceller.cancel(couponId, request);
    } catch (error) {
      await endTombstone(); // whether the statement ran is unknown: the unit stays taken either way
      throw error;
    }
    if (result.kind === 'refused') {
      await endTombstone();
      throw cancelRefusalError(couponId, result.refusal, request.reason);
    }
    // NOT_HELD, yet a row left: Redis had forgotten the holder, and a writer may have listed them
    // again since the give-back began (restore-holder.lua), so their unit goes back all the same
    const released =
      step === 'RETURNING' ? this.reservations.release(couponId, request.userId) : this.reservations.releaseUnlessPending(couponId, request.userId);
    await released.catch((error) => this.warn('release the unit given back by', request, couponId, error));
  }

  /**
   * After a writer's commit: takes back the rows of users who withdrew (their units then go back)
   * or who gave back while the row was being re-created; settles the rest. Returns who keeps one.
   * A row leaves only on evidence: a withdrawal in Redis (the user asked it, and it is settled
   * here), or a give-back or revocation of this very request on record in PostgreSQL (its
   * cancellation carries the request's stamp); never because Redis does not list the user (it
   * may have forgotten them), nor by comparing PostgreSQL's clock with Redis'.
   */
  async settleWritten(couponId: number, written: Written[]): Promise<Set<number>> {
    // withdrawals PostgreSQL recorded since the requests: they stand even if Redis lost its marks
    const withdrawn = await this.canceller.withdrawnSince(
      couponId,
      written.filter((w) => w.inserted),
    );
    const outcomes = await this.reservations.settle(
      couponId,
      written.map((w) => ({ ...w, withdrawnAt: withdrawn.get(w.userId) })),
    );
    const kept = new Set<number>();
    for (const [i, { userId, requestStamp }] of written.entries()) {
      const outcome = outcomes[i];
      if (outcome === 'KEEP') {
        kept.add(userId);
      } else if (outcome === 'WITHDRAWN') {
        // judged on Redis' mark: the withdrawal stood when the request written (requestStamp) was
        // pending, and any later ask of the user is stamped after it (reserve.lua)
        await this.takeBackWithdrawn(couponId, { userId, requestStamp }, withdrawn.get(userId) ?? requestStamp ?? Date.now(), kept);
      } else if (await this.canceller.removeIfGivenBack(couponId, userId, requestStamp)) {
        await this.pending.forget(couponId, userId); // ABSENT, and given back since
      } else {
        await this.reservations.restoreHolder(couponId, userId); // ABSENT: Redis forgot them
        kept.add(userId);
      }
    }
    return kept;
  }

  /**
   * The second step of a withdrawal: recorded in PostgreSQL before the 204, a row already written
   * taken back (its unit then goes back). A redeemed one stays theirs: 409 ALREADY_REDEEMED.
   */
  private async withdraw(couponId: number, request: CancelRequest, withdrawnAt: number): Promise<void> {
    const result = await this.canceller.withdraw(couponId, request.userId, withdrawnAt);
    if (result.kind === 'refused' && result.refusal === 'ALREADY_REDEEMED') {
      await this.reservations.forgetWithdrawal(couponId, request.userId); // it stays theirs, settled as issued
      throw cancelRefusalError(couponId, result.refusal, request.reason);
    }
    if (result.kind === 'cancelled')
      await this.reservations
        .releaseWithdrawn(couponId, request.userId, withdrawnAt)
        .catch((error) => this.warn('release the unit withdrawn by', request, couponId, error));
  }

  /**
   * A withdrawn request's row leaves and its unit goes back; unless its user asked again since
   * (written again), or it was redeemed. `standingAt`: a time the withdrawal stood (release.lua).
   */
  private async takeBackWithdrawn(couponId: number, { userId, requestStamp }: Omit<Written, 'inserted'>, standingAt: number, kept: Set<number>): Promise<void> {
    const result = await this.canceller.cancelWithdrawn(couponId, userId);
    // asked again since: the withdrawal is over, and the row (or the one its new request gets) is theirs
    if (result.kind === 'taken-up') return;
    if (result.kind === 'unrecorded') {
      // Redis' mark alone, and no record: settled as issued (its user had no 204), unless they asked again
      if (await this.pending.keepUnrecordedWithdrawal(couponId, userId, requestStamp)) kept.add(userId);
      return;
    }
    if (result.kind === 'refused' && result.refusal === 'ALREADY_REDEEMED') {
      // redeemed before the withdrawal reached here: it stays theirs, and so does its unit
      kept.add(userId);
      await this.reservations.forgetWithdrawal(couponId, userId);
    } else {
      // taken back here ('cancelled'), or gone already ('refused': the withdrawal's API took it back,
      // and gives its unit back; this does it only if that API died first)
      await this.returnWithdrawnUnit(couponId, userId, standingAt);
    }
  }

  /**
   * A withdrawn request's unit goes back once its row has left; only while Redis still shows the
   * withdrawal (marked, or its request pending). Once it does not, the user may have asked again
   * since, and their new request (pending, or settled on a row of its own) holds the unit: chaos
   * seed 3901 lost that 202 (the take-back's row gone already), and the take-back's own release
   * could drop the holder of a new request settled just before it. Or Redis lost the mark alone:
   * then neither a request is pending nor a row is held, and the unit goes back as withdrawn
   * (nobody can ask again meanwhile: without the mark, reserve.lua answers ALREADY_ISSUED).
   */
  private async returnWithdrawnUnit(couponId: number, userId: number, standingAt: number): Promise<void> {
    if (await this.reservations.releaseWithdrawn(couponId, userId, standingAt, { onlyWhileStanding: true })) return;
    if (await this.pending.isPending(couponId, userId)) {
      // asked again since: that request is owed a row, and it may have been settled on the very row taken back
      if (this.rewrite) await this.rewrite(couponId, userId);
    } else if (!(await this.issues.findHeld(couponId, userId))) {
      await this.reservations.releaseWithdrawn(couponId, userId, standingAt);
    }
  }

  private warn(what: string, request: CancelRequest, couponId: number, error: unknown): void {
    // the unit stays counted in Redis: held back until POST /coupons/:id/reconcile, never sold twice
    this.logger.warn(`could not ${what} user ${request.userId} on coupon ${couponId}: ${(error as Error).message}`);
  }
}
