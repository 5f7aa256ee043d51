import { ApiProperty } from '@nestjs/swagger';

export const ISSUE_STATUSES = ['ISSUED', 'REDEEMED', 'EXPIRED'] as const;
export type IssueStatus = (typeof ISSUE_STATUSES)[number];

export class IssueView {
  @ApiProperty({ example: 9001 }) issueId: number;
  @ApiProperty({ example: 42 }) couponId: number;
  @ApiProperty({ example: 7 }) userId: number;
  @ApiProperty({ description: 'unguessable, unique redemption code', example: 'Q2xq3vH8mX1bT0aZp9Lk' }) code: string;
  @ApiProperty({ format: 'date-time', example: '2026-11-27T00:00:00.123Z' }) issuedAt: string;
  @ApiProperty({ enum: ISSUE_STATUSES, example: 'ISSUED', description: 'EXPIRED: not redeemed by expiresAt' }) status: IssueStatus;
  @ApiProperty({
    type: String,
    nullable: true,
    format: 'date-time',
    example: '2026-12-27T00:00:00.123Z',
    description: 'the earlier of issuedAt + validDays and redeemUntil',
  })
  expiresAt: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time', example: null }) redeemedAt: string | null;
}

/**
 * When an issue stops being redeemable: the earlier of issued_at + the coupon's valid_days and its
 * redeem_until (LEAST ignores NULLs; NULL when neither is set). Derived from time on every read,
 * never written by a job that must run.
 */
export const expiresAtSql = (issue: string, coupon: string) => `least(${issue}.issued_at + ${coupon}.valid_days * interval '1 day', ${coupon}.redeem_until)`;

/** The columns every read of an issue selects (coupon_issues as `i`, coupons as `c`). */
export const ISSUE_COLUMNS = `i.id, i.coupon_id, i.user_id, i.code, i.issued_at, i.redeemed_at, ${expiresAtSql('i', 'c')} AS expires_at`;

/** A coupon_issues row as selected with snake_case columns. */
export interface IssueRow {
  id: number;
  coupon_id: number;
  user_id: number;
  code: string;
  issued_at: Date;
  redeemed_at: Date | null;
  expires_at: Date | null;
}

export function issueStatus(r: Pick<IssueRow, 'redeemed_at' | 'expires_at'>, now = new Date()): IssueStatus {
  if (r.redeemed_at) return 'REDEEMED';
  return r.expires_at && r.expires_at <= now ? 'EXPIRED' : 'ISSUED';
}

export const toIssueView = (r: IssueRow): IssueView => ({
  issueId: r.id,
  couponId: r.coupon_id,
  userId: r.user_id,
  code: r.code,
  issuedAt: r.issued_at.toISOString(),
  status: issueStatus(r),
  expiresAt: r.expires_at?.toISOString() ?? null,
  redeemedAt: r.redeemed_at?.toISOString() ?? null,
});
