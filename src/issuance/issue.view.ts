import { ApiProperty } from '@nestjs/swagger';

export class IssueView {
  @ApiProperty() issueId: number;
  @ApiProperty() couponId: number;
  @ApiProperty() userId: number;
  @ApiProperty({ description: 'unguessable, unique redemption code' }) code: string;
  @ApiProperty({ format: 'date-time' }) issuedAt: string;
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
