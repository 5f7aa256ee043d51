import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Page, toPage } from '../common/pagination';
import { IssueRow, IssueView, toIssueView } from './issue.view';

export interface UserCouponView {
  issueId: number;
  couponId: number;
  couponName: string;
  code: string;
  issuedAt: string;
}

export interface CouponIssueHistoryView {
  issueId: number;
  userId: number;
  code: string;
  issuedAt: string;
}

/** Reads of coupon_issues shared by every strategy and the history routes. */
@Injectable()
export class IssueStore {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async findHeld(couponId: number, userId: number): Promise<IssueView | undefined> {
    const [row] = await this.db.query<IssueRow[]>(`SELECT id, coupon_id, user_id, code, issued_at FROM coupon_issues WHERE coupon_id = $1 AND user_id = $2`, [
      couponId,
      userId,
    ]);
    return row && toIssueView(row);
  }

  async countRows(couponId: number): Promise<number> {
    const [{ count }] = await this.db.query(`SELECT count(*) AS count FROM coupon_issues WHERE coupon_id = $1`, [couponId]);
    return count;
  }

  async pageForUser(userId: number, cursor: string | undefined, limit: number): Promise<Page<UserCouponView>> {
    const rows = await this.db.query<(IssueRow & { coupon_name: string })[]>(
      `SELECT i.id, i.coupon_id, i.code, i.issued_at, c.name AS coupon_name
         FROM coupon_issues i JOIN coupons c ON c.id = i.coupon_id
        WHERE i.user_id = $1 AND ($2::bigint IS NULL OR i.id < $2::bigint)
        ORDER BY i.id DESC LIMIT $3`,
      [userId, cursor ?? null, limit + 1],
    );
    return toPage(
      rows,
      limit,
      (r) => r.id,
      (r) => ({
        issueId: r.id,
        couponId: r.coupon_id,
        couponName: r.coupon_name,
        code: r.code,
        issuedAt: r.issued_at.toISOString(),
      }),
    );
  }

  async pageForCoupon(couponId: number, cursor: string | undefined, limit: number): Promise<Page<CouponIssueHistoryView>> {
    const rows = await this.db.query<IssueRow[]>(
      `SELECT id, user_id, code, issued_at FROM coupon_issues
        WHERE coupon_id = $1 AND ($2::bigint IS NULL OR id < $2::bigint)
        ORDER BY id DESC LIMIT $3`,
      [couponId, cursor ?? null, limit + 1],
    );
    return toPage(
      rows,
      limit,
      (r) => r.id,
      (r) => ({ issueId: r.id, userId: r.user_id, code: r.code, issuedAt: r.issued_at.toISOString() }),
    );
  }
}
