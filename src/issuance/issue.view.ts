import { ApiProperty } from '@nestjs/swagger';

export class IssueView {
  @ApiProperty({ example: 9001 }) issueId: number;
  @ApiProperty({ example: 42 }) couponId: number;
  @ApiProperty({ example: 7 }) userId: number;
  @ApiProperty({ description: 'unguessable, unique redemption code', example: 'Q2xq3vH8mX1bT0aZp9Lk' }) code: string;
  @ApiProperty({ format: 'date-time', example: '2026-11-27T00:00:00.123Z' }) issuedAt: string;
}

/** A coupon_issues row as selected with snake_case columns. */
export interface IssueRow {
  id: number;
  coupon_id: number;
  user_id: number;
  code: string;
  issued_at: Date;
}

export const toIssueView = (r: IssueRow): IssueView => ({
  issueId: r.id,
  couponId: r.coupon_id,
  userId: r.user_id,
  code: r.code,
  issuedAt: r.issued_at.toISOString(),
});
