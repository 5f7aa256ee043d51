import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AuthUser } from '../common/auth-user';
import { DomainError, unavailable } from '../common/errors/domain.error';
import { ErrorCode } from '../common/errors/error-code';
import { expiresAtSql, ISSUE_COLUMNS, IssueRow, IssueView, toIssueView } from './issue.view';

/**
 * One conditional UPDATE decides a redemption: it sets redeemed_at only where it is still NULL
 * and the issue has not expired. Under any concurrency PostgreSQL lets one such UPDATE through per
 * row: the others wait on the row lock, then find redeemed_at set (READ COMMITTED re-checks the
 * condition on the row as committed) and change nothing; the one that wins records the event.
 * `$3` is the holder; NULL for an admin,
 * who redeems on a holder's behalf (a checkout back end).
 */
const REDEEM_SQL = `
  WITH target AS (
    SELECT i.id, ${expiresAtSql('i', 'c')} AS expires_at
      FROM coupon_issues i JOIN coupons c ON c.id = i.coupon_id
     WHERE i.code = $1 AND ($3::int IS NULL OR i.user_id = $3::int)
  ), redeemed AS (
    UPDATE coupon_issues i SET redeemed_at = now(), order_ref = $2
      FROM target t
     WHERE i.id = t.id AND i.redeemed_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
    RETURNING i.id, i.coupon_id, i.user_id, i.code, i.issued_at, i.redeemed_at, i.order_ref, t.expires_at
  ), recorded AS (
    INSERT INTO coupon_events (type, coupon_id, user_id, issue_id, code, order_ref)
    SELECT 'issue.redeemed', coupon_id, user_id, id, code, order_ref FROM redeemed
  )
  SELECT (SELECT id FROM target) AS target_id, r.id AS redeemed_id, r.coupon_id, r.user_id, r.code, r.issued_at, r.redeemed_at, r.expires_at
    FROM (SELECT 1) AS one LEFT JOIN redeemed r ON true`;

const ISSUE_BY_ID_SQL = `
  SELECT ${ISSUE_COLUMNS}, i.order_ref, coalesce(${expiresAtSql('i', 'c')} <= now(), false) AS expired
    FROM coupon_issues i JOIN coupons c ON c.id = i.coupon_id WHERE i.id = $1`;

/** Decisions made for one redemption at most, when the coupon's expiry keeps moving under it. */
const MAX_DECISIONS = 3;

/** One answer for a code that is unknown, someone else's, or gone: nothing to learn by probing. */
const issueNotFound = () => new DomainError(ErrorCode.ISSUE_NOT_FOUND, 'No coupon of yours has this code');

@Injectable()
export class RedemptionService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Redeems the issue with this code, once. A code that is not the caller's, or no longer exists
   * (given back, revoked), is the same 404 as an unknown one: nothing to learn by probing codes.
   */
  async redeem(caller: AuthUser, code: string, orderRef?: string): Promise<IssueView> {
    const holder = caller.role === 'admin' ? null : caller.id;
    for (let attempt = 1; ; attempt++) {
      const [decided] = await this.db.query<(Omit<IssueRow, 'id'> & { target_id: number | null; redeemed_id: number | null })[]>(REDEEM_SQL, [
        code,
        orderRef ?? null,
        holder,
      ]);
      if (decided.target_id === null) throw issueNotFound();
      // this one won: the statement returned the row as it wrote it (one round trip on the usual path)
      if (decided.redeemed_id !== null) return toIssueView({ ...decided, id: decided.redeemed_id });
      // read after the decision: a fresh snapshot, which sees the redemption that won
      const [issue] = await this.db.query<(IssueRow & { order_ref: string | null; expired: boolean })[]>(ISSUE_BY_ID_SQL, [decided.target_id]);
      if (!issue) throw issueNotFound(); // given back meanwhile
      if (issue.redeemed_at) {
        // the same order asking again (a retried checkout) is told yes again
        if (orderRef !== undefined && issue.order_ref === orderRef) return toIssueView(issue);
        throw new DomainError(ErrorCode.ALREADY_REDEEMED, `This coupon was redeemed at ${issue.redeemed_at.toISOString()}`);
      }
      if (issue.expired) throw new DomainError(ErrorCode.ISSUE_EXPIRED, `This coupon expired at ${issue.expires_at!.toISOString()}`);
      // neither redeemed nor expired now: an admin moved or removed the expiry between the decision
      // and this read, so the decision is made again against the coupon as it now is
      if (attempt === MAX_DECISIONS) throw unavailable('the coupon changed while it was being redeemed; ask again');
    }
  }
}
