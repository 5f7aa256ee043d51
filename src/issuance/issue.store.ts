import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Page, toPage } from '../common/pagination';
import { expiresAtSql, ISSUE_COLUMNS, IssueRow, IssueStatus, IssueView, toIssueView } from './issue.view';

export interface UserCouponView {
  issueId: number;
  couponId: number;
  couponName: string;
  code: string;
  issuedAt: string;
  status: IssueStatus;
  expiresAt: string | null;
  redeemedAt: string | null;
}

export interface CouponIssueHistoryView {
  issueId: number;
  userId: number;
  code: string;
  issuedAt: string;
  status: IssueStatus;
  redeemedAt: string | null;
}

/** A status filter in SQL, on the same rule as issueStatus() (expiry derived from now()). */
const STATUS_FILTER: Record<IssueStatus, string> = {
  REDEEMED: 'i.redeemed_at IS NOT NULL',
  EXPIRED: `i.redeemed_at IS NULL AND ${expiresAtSql('i', 'c')} <= now()`,
  ISSUED: `i.redeemed_at IS NULL AND (${expiresAtSql('i', 'c')} IS NULL OR ${expiresAtSql('i', 'c')} > now())`,
};

/** Reads of coupon_issues shared by every strategy and the history routes. */
@Injectable()
export class IssueStore {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async findHeld(couponId: number, userId: number): Promise<IssueView | undefined> {
    const [row] = await this.db.query<IssueRow[]>(
      `SELECT ${ISSUE_COLUMNS} FROM coupon_issues i JOIN coupons c ON c.id = i.coupon_id WHERE i.coupon_id = $1 AND i.user_id = $2`,
      [couponId, userId],
    );
    return row && toIssueView(row);
  }

  /** The users holding the coupon, when at most `atMost` do. */
  async holdersIfAtMost(couponId: number, atMost: number): Promise<Set<number> | undefined> {
    const rows = await this.db.query<{ user_id: number }[]>('SELECT user_id FROM coupon_issues WHERE coupon_id = $1 LIMIT $2', [couponId, atMost + 1]);
    return rows.length > atMost ? undefined : new Set(rows.map((r) => Number(r.user_id)));
  }

  /** Who holds this issue of the coupon now; undefined when it does not exist (or left: given back, revoked). */
  async holderOf(couponId: number, issueId: number): Promise<number | undefined> {
    const [row] = await this.db.query<{ user_id: number }[]>('SELECT user_id FROM coupon_issues WHERE id = $1 AND coupon_id = $2', [issueId, couponId]);
    return row?.user_id;
  }

  /** Rows (issues held now), how many of them are redeemed, and how many were given back or revoked. */
  async counts(couponId: number): Promise<{ rows: number; redeemed: number; cancelled: number }> {
    const [counts] = await this.db.query(
      `SELECT (SELECT count(*) FROM coupon_issues WHERE coupon_id = $1) AS rows,
              (SELECT count(*) FROM coupon_issues WHERE coupon_id = $1 AND redeemed_at IS NOT NULL) AS redeemed,
              (SELECT count(*) FROM coupon_issue_cancellations WHERE coupon_id = $1) AS cancelled`,
      [couponId],
    );
    return counts;
  }

  async pageForUser(userId: number, cursor: string | undefined, limit: number, status?: IssueStatus): Promise<Page<UserCouponView>> {
    const rows = await this.db.query<(IssueRow & { coupon_name: string })[]>(
      `SELECT ${ISSUE_COLUMNS}, c.name AS coupon_name
         FROM coupon_issues i JOIN coupons c ON c.id = i.coupon_id
        WHERE i.user_id = $1 AND ($2::bigint IS NULL OR i.id < $2::bigint) AND ${status ? STATUS_FILTER[status] : 'true'}
        ORDER BY i.id DESC LIMIT $3`,
      [userId, cursor ?? null, limit + 1],
    );
    return toPage(
      rows,
      limit,
      (r) => r.id,
      (r) => {
        const { issueId, couponId, code, issuedAt, status, expiresAt, redeemedAt } = toIssueView(r);
        return { issueId, couponId, couponName: r.coupon_name, code, issuedAt, status, expiresAt, redeemedAt };
      },
    );
  }

  async pageForCoupon(couponId: number, cursor: string | undefined, limit: number): Promise<Page<CouponIssueHistoryView>> {
    const rows = await this.db.query<IssueRow[]>(
      `SELECT ${ISSUE_COLUMNS} FROM coupon_issues i JOIN coupons c ON c.id = i.coupon_id
        WHERE i.coupon_id = $1 AND ($2::bigint IS NULL OR i.id < $2::bigint)
        ORDER BY i.id DESC LIMIT $3`,
      [couponId, cursor ?? null, limit + 1],
    );
    return toPage(
      rows,
      limit,
      (r) => r.id,
      (r) => {
        const { issueId, userId, code, issuedAt, status, redeemedAt } = toIssueView(r);
        return { issueId, userId, code, issuedAt, status, redeemedAt };
      },
    );
  }
}
